"""Use cases: load, decide with the domain rules, commit, then publish."""
