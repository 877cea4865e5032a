#!version:1.0.0.1
## y000000000000.boot: the boot file of a Yealink that has no <mac>.boot (no reservation);
## rendered by kea-phoneprov. Local edits are overwritten.
include:config "y000000000000.cfg"
