package integration

import (
	"testing"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// builder builds each binary once for the whole test process.
var builder *hosttest.Builder

func TestMain(m *testing.M) { hosttest.Main(m, &builder) }
