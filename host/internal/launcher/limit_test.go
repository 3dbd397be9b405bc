package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// sizeModel answers a string of as many bytes as its input says.
type sizeModel struct{}

func (sizeModel) Info() sdk.Info {
	return sdk.Info{QualifiedName: "size", DisplayName: "Size", Version: "1.0.0"}
}
func (sizeModel) InputSchema() json.RawMessage  { return json.RawMessage(`{}`) }
func (sizeModel) OutputSchema() json.RawMessage { return json.RawMessage(`{}`) }
func (sizeModel) Predict(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	var n int
	if err := json.Unmarshal(in, &n); err != nil {
		return nil, err
	}
	return json.RawMessage(`"` + strings.Repeat("x", n) + `"`), nil
}

func TestLimitedModelPredictBatch(t *testing.T) {
	m := &limitedModel{RemoteModel: plugin.ServeTest(t, sizeModel{}), limit: 100}
	outs, errs, err := m.PredictBatch(context.Background(), []json.RawMessage{json.RawMessage(`10`), json.RawMessage(`200`)})
	if err != nil {
		t.Fatalf("PredictBatch error = %v", err)
	}
	if errs[0] != nil || len(outs[0]) != 12 {
		t.Errorf("item 0 = %d bytes, %v; want 12 bytes, nil", len(outs[0]), errs[0])
	}
	var tooLarge *ResponseTooLargeError
	if !errors.As(errs[1], &tooLarge) || !errors.Is(errs[1], plugin.ErrProtocol) || outs[1] != nil {
		t.Errorf("item 1 = %d bytes, %v; want a *ResponseTooLargeError", len(outs[1]), errs[1])
	}
}
