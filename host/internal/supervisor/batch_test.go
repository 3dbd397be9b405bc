package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk/plugin"
)

var _ registry.BatchModel = (*Supervisor)(nil)

func TestPredictBatch(t *testing.T) {
	p := fastPolicy()
	p.BackoffInitial, p.BackoffMax = 2*time.Second, 2*time.Second
	h := newHarness(t, p, nil)
	outs, errs, err := h.sup.PredictBatch(context.Background(), []json.RawMessage{json.RawMessage(`{}`), json.RawMessage(`{}`)})
	if err != nil {
		t.Fatalf("PredictBatch error = %v", err)
	}
	want := fmt.Sprintf(`{"pid":%d}`, h.first.pid)
	for i := range outs {
		if string(outs[i]) != want || errs[i] != nil {
			t.Errorf("item %d = %s, %v; want %s, nil", i, outs[i], errs[i], want)
		}
	}

	// A dead process fails the whole batch with an *UnavailableError.
	h.first.crash()
	h.waitFor(registry.StatusRestarting)
	_, _, err = h.sup.PredictBatch(context.Background(), []json.RawMessage{json.RawMessage(`{}`)})
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, plugin.ErrUnavailable) {
		t.Errorf("PredictBatch while restarting: error %v, want an *UnavailableError", err)
	}
}
