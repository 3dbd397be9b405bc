// Command exitatstart exits at once with an error, as a plugin whose
// weights are missing would.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "fatal: cannot load weights from /nonexistent/weights.bin")
	os.Exit(3)
}
