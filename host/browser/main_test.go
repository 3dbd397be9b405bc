package browser

import (
	"fmt"
	"os"
	"testing"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// builder builds each binary once for the whole test process.
var builder *hosttest.Builder

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "modelhost-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builder, err = hosttest.NewBuilder(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
