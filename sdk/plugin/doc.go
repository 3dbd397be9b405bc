// Package plugin is the contract between the modelhost host and model
// plugins: the handshake, the plugin set and both halves of the gRPC
// protocol.
//
// A plugin's main function is one call to [Serve]:
//
//	func main() {
//		plugin.Serve(sdk.NewModel(info, predict))
//	}
//
// The host launches plugin binaries with github.com/hashicorp/go-plugin
// using [HandshakeConfig], [PluginSet] and [GRPCDialOptions], then calls
// [Connect] to obtain a [RemoteModel], an sdk.MLModel whose Predict crosses
// the process boundary. Protocol buffers stay inside this package: neither
// model authors nor the host's HTTP layer see them.
//
// Inputs and outputs cross the wire as JSON documents of at most
// [MaxMessageBytes] bytes each way.
package plugin
