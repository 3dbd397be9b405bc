// Package config loads the modelhost server configuration from an HCL file
// (conventionally config.hcl).
//
// The file has seven optional top-level blocks, server, plugins, log, auth,
// admin, cors (each at most once) and model (any number, each labelled with
// a unique name):
//
//	server {
//	  address          = "127.0.0.1:8080"
//	  shutdown_timeout = "15s"
//	  max_body_bytes   = 1048576
//	}
//
//	plugins {
//	  directory       = "bin/plugins"
//	  start_timeout   = "10s"
//	  predict_timeout = "30s"
//	  watch           = true
//	  pinned_versions = { iris_model = "1.0.0" }
//	}
//
//	model "iris" {
//	  command         = "bin/plugins/iris"
//	  args            = ["--threads", "2"]
//	  env             = { OMP_NUM_THREADS = "2" }
//	  predict_timeout = "5s"
//	}
//
//	log {
//	  level  = "info"
//	  format = "text"
//	  access = true
//	}
//
//	auth {
//	  tokens_file = "/etc/modelhost/tokens"
//	}
//
//	admin {
//	  tokens_env = "MODELHOST_ADMIN_TOKENS"
//	}
//
//	cors {
//	  allowed_origins = ["https://app.example"]
//	}
//
// Every argument has a default, documented on the corresponding field of
// [Config]; an argument set to null is treated as omitted. Durations are
// strings in [time.ParseDuration] syntax and must be greater than zero.
// Relative paths (plugins.directory and model.command) are resolved against
// the directory that holds the configuration file. Expressions are evaluated
// without variables or functions, so only literal values are accepted.
//
// [Load] and [Parse] reject unknown blocks and arguments, malformed values and
// semantically invalid settings. Their errors are of type [*Error], which
// carries the [hcl.Diagnostics]; every diagnostic names the file, line and
// column of the offending block or value. [Default] returns the configuration
// used when no file is given.
//
// [RestartRequired] compares two configurations and names the settings
// that a running host cannot apply by reloading.
//
// The package holds no global state; the returned [Config] is owned by the
// caller.
package config
