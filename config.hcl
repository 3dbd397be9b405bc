# modelhost configuration used by `make run`.
# Every setting is optional; docs/configuration.md lists them with defaults.

server {
  address = "127.0.0.1:8080"
}

plugins {
  # Every executable file in this directory is launched as a plugin.
  # `make build` puts the bundled plugins here.
  directory = "bin/plugins"
}

log {
  level = "info"
}
