// Command misbehave is a plugin that misbehaves in the ways its command
// line and each request choose, so that integration tests can check that
// the host survives: it starts slowly, crash-loops, prints to standard
// output, hangs, answers too much, or answers what its output schema
// forbids.
//
//	--name NAME           the model's qualified name (default misbehave)
//	--start-delay D       sleep D before serving (a slow start)
//	--exit-after D        exit with status 1 D after serving begins (a crash loop)
//	--print-before-serve  print to standard output before serving, which breaks the handshake
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

type input struct {
	Action  string `json:"action" jsonschema:"enum=ok,enum=hang,enum=print,enum=big,enum=bad"`
	Size    int    `json:"size,omitempty" jsonschema:"minimum=0,maximum=100000000"`
	Message string `json:"message,omitempty" jsonschema:"maxLength=1000"`
}

type output struct {
	Result string `json:"result"`
}

// model answers what its output schema forbids when asked to.
type model struct {
	*sdk.Model[input, output]
}

func (m model) Predict(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var in input
	if err := json.Unmarshal(raw, &in); err == nil && in.Action == "bad" {
		return json.RawMessage(`{"result":42,"extra":true}`), nil
	}
	return m.Model.Predict(ctx, raw)
}

func main() {
	name := flag.String("name", "misbehave", "qualified name")
	startDelay := flag.Duration("start-delay", 0, "sleep before serving")
	exitAfter := flag.Duration("exit-after", 0, "exit with status 1 this long after serving begins")
	printFirst := flag.Bool("print-before-serve", false, "print to stdout before serving")
	if len(os.Args) != 2 || os.Args[1] != "--describe" { // plugin.Serve's own flag
		flag.Parse()
	}

	if *printFirst {
		fmt.Println("hello from misbehave before the handshake")
	}
	time.Sleep(*startDelay)
	if *exitAfter > 0 {
		go func() {
			time.Sleep(*exitAfter)
			fmt.Fprintln(os.Stderr, "misbehave: crashing on purpose")
			os.Exit(1)
		}()
	}
	plugin.Serve(model{sdk.NewModel(sdk.Info{
		QualifiedName: *name,
		DisplayName:   "Misbehaving model",
		Description:   "Misbehaves on request, for integration tests.",
		Version:       "0.1.0",
	}, predict, sdk.WithExamples(input{Action: "ok"}))})
}

func predict(ctx context.Context, in input) (output, error) {
	switch in.Action {
	case "hang":
		// The log line lets a test see that the call reached the model.
		sdk.Logger(ctx).Info("hang started", "marker", in.Message)
		select {} // ignores ctx: only the host's deadline ends the call
	case "print":
		fmt.Println("stdout-line " + in.Message)
		fmt.Print("partial ")
		fmt.Println("line " + in.Message)
		fmt.Fprintln(os.Stderr, "stderr-line "+in.Message)
	case "big":
		return output{Result: strings.Repeat("x", in.Size)}, nil
	}
	return output{Result: "ok"}, nil
}
