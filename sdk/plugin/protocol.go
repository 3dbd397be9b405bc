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

// The HTTP/2 flow-control windows of the connection between host and
// plugin, set on both sides. Fixed windows turn off grpc-go's bandwidth
// estimation, which on a Unix socket has no latency to estimate but sends
// a PING and window updates along with the data of calls, each waking the
// other process: a sequential call takes a fifth less time without them
// (docs/performance.md, Optimisations). A stream may have 4 MiB unread,
// enough for most messages to pass without waiting for a window update;
// the connection 16 MiB, four such at once.
const (
	streamWindowBytes = 4 << 20
	connWindowBytes   = 16 << 20
)

// GRPCDialOptions returns the dial options the host must pass as
// ClientConfig.GRPCDialOptions, so that messages up to MaxMessageBytes pass
// and flow control uses the fixed windows above.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes),
			grpc.MaxCallSendMsgSize(MaxMessageBytes),
		),
		grpc.WithInitialWindowSize(streamWindowBytes),
		grpc.WithInitialConnWindowSize(connWindowBytes),
	}
}

// grpcServerOptions are the plugin's gRPC server options: messages up to
// MaxMessageBytes, the fixed flow-control windows, and calls served by a few long-lived goroutines rather
// than a new goroutine each, whose stack would grow again on every call
// (grpc-go falls back to a new goroutine when every worker is busy).
func grpcServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.NumStreamWorkers(streamWorkers()),
		grpc.InitialWindowSize(streamWindowBytes),
		grpc.InitialConnWindowSize(connWindowBytes),
	}
}

// streamWorkers is the number of goroutines that serve calls: two per
// processor the Go runtime may use, so that a worker is free whenever a
// processor is.
func streamWorkers() uint32 {
	return uint32(2 * runtime.GOMAXPROCS(0))
}
