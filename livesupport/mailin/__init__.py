"""E-mail in: the LMTP server (`livesupport mail-in`) and the IMAP poller (the worker, with IMAP_URL).

Both hand each message to one pipeline, livesupport.actions.inbound_mail.Mailbox, and report it done (the
LMTP answer, the IMAP \\Seen flag) only after it returned: stored, held, dropped or already there.
"""
