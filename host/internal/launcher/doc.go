// Package launcher finds plugin binaries and starts them as go-plugin gRPC
// plugins.
//
// [Discover] turns the configuration into a list of [Spec]s: one per model
// block, and one per executable file in the plugin directory. [Launch]
// starts one plugin, completes the handshake, fetches its metadata and
// returns a [Plugin]; [LaunchAll] starts many concurrently. A plugin that
// cannot start yields an error that says why in terms an operator can act
// on, and never affects the others.
package launcher
