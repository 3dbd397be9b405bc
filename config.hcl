# modelhost configuration used by `make run`.
# Every setting is optional; docs/configuration.md lists them with defaults.
# Check a change with `bin/modelhost validate --config config.hcl`, then
# apply it to the running server with `kill -HUP $(pgrep -x modelhost)`.

server {
  address = "127.0.0.1:8080"
}

plugins {
  # Every executable file in this directory is launched as a plugin.
  # `make build` puts the bundled plugins here.
  directory = "bin/plugins"

  # Adding, replacing or removing a binary here reloads the plugins;
  # `watch = false` turns that off.
  # watch = true

  # When several plugins serve one model name at different versions,
  # predictions use the highest unless the name is pinned:
  # pinned_versions = { iris_model = "1.0.0" }
}

log {
  level = "info"
  # One line per HTTP request; `access = false` turns it off.
  # access = true
}

# Uncomment to allow POST /admin/reload with a token from this variable:
# admin {
#   tokens_env = "MODELHOST_ADMIN_TOKENS"
# }
