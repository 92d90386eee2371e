"""Local development tooling: the stack launcher, the Functions host stand-in, dev tokens. Not deployed."""
