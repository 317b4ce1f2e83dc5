"""The command line's commands, one module each: a plain function that turns a command's
options into a call to its stage and the stage's report into lines (``cli.py`` declares
the commands and their options and calls these when a command runs)."""
