package plugin

import (
	"runtime"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of the wire protocol. The host refuses a
// plugin that speaks another one.
const ProtocolVersion = 1

// MaxMessageBytes bounds one gRPC message between host and plugin in either
// direction: 256 MiB, far beyond gRPC's 4 MiB default, so that large batches
// and large inputs (images, documents) fit.
const MaxMessageBytes = 256 << 20

// LogLevelEnv names the environment variable through which the host tells a
// plugin the lowest level of log line it wants (trace, debug, info, warn,
// error).
const LogLevelEnv = "MODELHOST_PLUGIN_LOG_LEVEL"

// pluginName is the key of the model plugin in the plugin set.
const pluginName = "model"

// HandshakeConfig returns the handshake the host and a plugin must agree on.
// The magic cookie only keeps a plugin from being started by accident; it is
// not a security measure.
func HandshakeConfig() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "MODELHOST_PLUGIN_MAGIC_COOKIE",
		MagicCookieValue: "6f0c1a7e-modelhost-model-plugin-3b9d",
	}
}

// PluginSet returns the plugin set to hand go-plugin. The host passes it as
// ClientConfig.Plugins; it never uses the model it wraps.
func PluginSet() goplugin.PluginSet {
	return goplugin.PluginSet{pluginName: &grpcPlugin{}}
}

// GRPCDialOptions returns the dial options the host must pass as
// ClientConfig.GRPCDialOptions, so that messages up to MaxMessageBytes pass.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageBytes),
		grpc.MaxCallSendMsgSize(MaxMessageBytes),
	)}
}

// grpcServerOptions are the plugin's gRPC server options: messages up to
// MaxMessageBytes, and calls served by a few long-lived goroutines rather
// than a new goroutine each, whose stack would grow again on every call
// (grpc-go falls back to a new goroutine when every worker is busy).
func grpcServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.NumStreamWorkers(streamWorkers()),
	}
}

// streamWorkers is the number of goroutines that serve calls: two per
// processor the Go runtime may use, so that a worker is free whenever a
// processor is.
func streamWorkers() uint32 {
	return uint32(2 * runtime.GOMAXPROCS(0))
}
