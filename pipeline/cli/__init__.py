"""The `csi` command line, in French."""
