// Package integration holds the host's end-to-end tests: they build the
// real host and plugin binaries, start the host on a free loopback port and
// talk HTTP to it. The binaries under testdata misbehave on purpose.
package integration
