// Package modeltest checks that a model keeps the contract the host relies
// on, from the model's own unit tests.
//
//	func TestContract(t *testing.T) {
//		modeltest.Check(t, newModel())
//	}
//
// Check serves the model over real gRPC inside the test process, exactly as
// the host would see it, and verifies its metadata, its schemas (compiled
// with schemacheck, as the host compiles them when it loads the plugin: the
// plugin binary itself does not compile them), and that every example in
// its input schema predicts without error into an output that satisfies
// its output schema.
package modeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

// Check verifies the model's contract and returns the model as the host sees
// it, served over gRPC, for further assertions. It reports every problem it
// finds with t.Errorf and stops the test with t.FailNow if the model cannot
// be served at all.
func Check(t testing.TB, model sdk.MLModel) *plugin.RemoteModel {
	t.Helper()
	if err := schemacheck.Model(model); err != nil {
		t.Fatalf("model cannot be served: %v", err)
	}
	remote := plugin.ServeTest(t, model)
	if got, want := remote.Info(), model.Info(); got != want {
		t.Errorf("metadata over gRPC = %+v, want %+v", got, want)
	}
	inSchema, err := schemacheck.Compile(remote.InputSchema())
	if err != nil {
		t.Fatalf("input schema over gRPC: %v", err)
	}
	outSchema, err := schemacheck.Compile(remote.OutputSchema())
	if err != nil {
		t.Fatalf("output schema over gRPC: %v", err)
	}
	var doc struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(remote.InputSchema(), &doc); err != nil {
		t.Fatalf("input schema is not a JSON object: %v", err)
	}
	if len(doc.Examples) == 0 {
		t.Errorf(`input schema has no "examples": add some with sdk.WithExamples so that forms, docs and this check can use them`)
	}
	for i, ex := range doc.Examples {
		if err := validate(inSchema, ex); err != nil {
			t.Errorf("example %d %s does not satisfy the input schema: %v", i, ex, err)
			continue
		}
		out, err := remote.Predict(context.Background(), ex)
		if err != nil {
			t.Errorf("predict example %d %s: %v", i, ex, err)
			continue
		}
		if err := validate(outSchema, out); err != nil {
			t.Errorf("output %s of example %d does not satisfy the output schema: %v", out, i, err)
		}
	}
	return remote
}

// Predict runs one JSON input through model served over gRPC and returns
// its JSON output.
func Predict(t testing.TB, model sdk.MLModel, input string) (json.RawMessage, error) {
	t.Helper()
	return plugin.ServeTest(t, model).Predict(context.Background(), json.RawMessage(input))
}

func validate(s interface{ Validate(any) error }, doc json.RawMessage) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(v)
}
