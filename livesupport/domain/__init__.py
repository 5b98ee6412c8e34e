"""Pure rules of the support desk: no I/O, no framework imports."""
