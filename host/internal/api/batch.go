package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// DefaultMaxBatchSize is the most inputs of a batch prediction when
// Options.MaxBatchSize is not positive.
const DefaultMaxBatchSize = 1000

// batchResponse is the answer of a batch prediction: one output per input,
// null for the inputs that failed, and one itemError per failed input.
type batchResponse struct {
	Outputs []json.RawMessage `json:"outputs"`
	Errors  []itemError       `json:"errors"`
}

// itemError is the problem details of one input of a batch, with its index.
// Its pointers are relative to the input, as for a single prediction.
type itemError struct {
	Index  int                  `json:"index"`
	Status int                  `json:"status"`
	Type   string               `json:"type"`
	Title  string               `json:"title"`
	Detail string               `json:"detail"`
	Errors []problem.FieldError `json:"errors,omitempty"`
}

// predictBatch answers POST /api/models/:name/predict/batch. The request
// is checked as a single prediction is; then each input is validated on
// its own, and the valid ones go to the model in one call, which takes one
// concurrency slot and is bounded by the predict timeout as a whole.
func (s *server) predictBatch(c echo.Context) error {
	// The raw text of each input, as the client sent it, found by the
	// parser in the same pass when it can.
	var rawInputs []json.RawMessage
	entry, body, doc, err := s.readRequest(c, &rawInputs)
	if err != nil {
		return err
	}
	name := entry.Info.QualifiedName
	req := c.Request()
	items, err := batchItems(doc)
	if err != nil {
		return err
	}
	if len(items) > s.maxBatch {
		return problem.BatchTooLarge(len(items), s.maxBatch)
	}
	if len(rawInputs) != len(items) {
		// The parser's slow path: split the body again.
		var raw struct {
			Inputs []json.RawMessage `json:"inputs"`
		}
		if err := json.Unmarshal(body, &raw); err != nil || len(raw.Inputs) != len(items) {
			return fmt.Errorf("model %s: split batch of %d inputs: got %d (%v)", name, len(items), len(raw.Inputs), err)
		}
		rawInputs = raw.Inputs
	}

	log := s.logger(c)
	res := batchResponse{Outputs: make([]json.RawMessage, len(items)), Errors: []itemError{}}
	failed := make([]error, len(items))
	var valid []int // indexes of the inputs sent to the model
	for i, item := range items {
		if err := validateInput(entry.Validator, item, s.printer); err != nil {
			failed[i] = err
			continue
		}
		valid = append(valid, i)
	}

	if len(valid) > 0 {
		inputs := make([]json.RawMessage, len(valid))
		for j, i := range valid {
			inputs[j] = rawInputs[i]
		}
		outs, errs, err := s.callBatch(req.Context(), entry, inputs)
		if err != nil {
			return fmt.Errorf("model %s: predict batch of %d: %w", name, len(inputs), err)
		}
		for j, i := range valid {
			out, err := outs[j], errs[j]
			if err != nil {
				err = fmt.Errorf("model %s: predict: %w", name, err)
			} else {
				err = checkOutput(entry.OutputValidator, name, out)
			}
			if err != nil {
				failed[i] = err
				continue
			}
			res.Outputs[i] = out
		}
	}

	for i, err := range failed {
		if err == nil {
			continue
		}
		d := problem.FromError(err)
		if d.Status >= http.StatusInternalServerError {
			log.Error("batch item failed", "model", name, "index", i, "status", d.Status, "error", err)
		}
		res.Errors = append(res.Errors, itemError{
			Index: i, Status: d.Status, Type: d.Type, Title: d.Title, Detail: d.Detail, Errors: d.Errors,
		})
	}
	return c.JSON(http.StatusOK, &res)
}

// callBatch makes the model's one call for a batch, in one concurrency
// slot and within the predict timeout.
func (s *server) callBatch(ctx context.Context, entry *registry.Entry, inputs []json.RawMessage) ([]json.RawMessage, []error, error) {
	var outs []json.RawMessage
	var errs []error
	err := s.callModel(ctx, entry, methodPredictBatch, func(ctx context.Context) error {
		var err error
		outs, errs, err = registry.PredictBatch(ctx, entry.Model, inputs)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if len(outs) != len(inputs) || len(errs) != len(inputs) {
		return nil, nil, fmt.Errorf("%w: %d outputs and %d errors for %d inputs", plugin.ErrProtocol, len(outs), len(errs), len(inputs))
	}
	return outs, errs, nil
}

// batchItems returns the inputs of a batch request document: it must be an
// object whose only member "inputs" is a non-empty array.
func batchItems(doc any) ([]any, error) {
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, problem.InvalidInput("the request body must be a JSON object with the member \"inputs\"",
			[]problem.FieldError{{Pointer: "", Detail: "must be an object"}})
	}
	var fields []problem.FieldError
	for k := range obj {
		if k != "inputs" {
			fields = append(fields, problem.FieldError{Pointer: "/" + escapePointerToken(k), Detail: "is not allowed: the only member is \"inputs\""})
		}
	}
	v, present := obj["inputs"]
	items, isArray := v.([]any)
	switch {
	case !present:
		fields = append(fields, problem.FieldError{Pointer: "/inputs", Detail: "is required"})
	case !isArray:
		fields = append(fields, problem.FieldError{Pointer: "/inputs", Detail: "must be an array of inputs"})
	case len(items) == 0:
		fields = append(fields, problem.FieldError{Pointer: "/inputs", Detail: "must have at least 1 item"})
	}
	if len(fields) > 0 {
		if len(fields) > maxFieldErrors {
			fields = fields[:maxFieldErrors]
		}
		slices.SortFunc(fields, func(a, b problem.FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
		return nil, problem.InvalidInput("the request body must be {\"inputs\": [...]} with at least one input", fields)
	}
	return items, nil
}
