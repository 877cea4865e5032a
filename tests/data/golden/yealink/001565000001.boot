#!version:1.0.0.1
## 001565000001.boot: the first file a Yealink (firmware 81 or later) asks for; rendered by
## kea-phoneprov. Local edits are overwritten. The files below are fetched in order,
## relative to this one; a later file's values win.
include:config "y000000000000.cfg"
include:config "001565000001.cfg"
