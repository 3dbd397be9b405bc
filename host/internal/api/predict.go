package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/limit"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// predict answers POST /api/models/:name/predict. The order of the checks
// is part of the API: see the package comment.
func (s *server) predict(c echo.Context) error {
	entry, body, doc, err := s.readRequest(c, nil)
	if err != nil {
		return err
	}
	if err := validateInput(entry.Validator, doc, s.printer); err != nil {
		return err
	}
	var out json.RawMessage
	err = s.callModel(c.Request().Context(), entry, methodPredict, func(ctx context.Context) error {
		var err error
		out, err = entry.Model.Predict(ctx, body)
		return err
	})
	if err != nil {
		return fmt.Errorf("model %s: predict: %w", entry.Info.QualifiedName, err)
	}
	if err := checkOutput(entry.OutputValidator, entry.Info.QualifiedName, out); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, out)
}

// readRequest runs the checks that every prediction request passes first,
// in the order the package comment gives: the model exists, the body is
// JSON of an acceptable size, and it parses. It returns the model, leased
// until the request is over (see lease), the body as sent and the parsed
// document.
// If inputs is not nil, it is set as parseDocument sets it.
//
// The model is looked up twice: first only to answer 404 before reading a
// body, then, once the body is in, to take the lease. A reload may have
// swapped the model in between; the request then goes to the new one.
func (s *server) readRequest(c echo.Context, inputs *[]json.RawMessage) (*registry.Entry, []byte, any, error) {
	name, version := c.Param("name"), c.Param("version")
	if _, err := s.lookup(name, version); err != nil {
		return nil, nil, nil, err
	}
	req := c.Request()
	if err := checkContentTypes(req.Header.Values(echo.HeaderContentType)); err != nil {
		return nil, nil, nil, err
	}
	body, err := readBody(req, s.maxBody)
	if err != nil {
		return nil, nil, nil, err
	}
	doc, err := parseDocument(body, inputs)
	if err != nil {
		return nil, nil, nil, err
	}
	entry, err := s.lease(c, name, version)
	if err != nil {
		return nil, nil, nil, err
	}
	return entry, body, doc, nil
}

// The plugin methods, as metrics label them.
const (
	methodPredict      = "predict"
	methodPredictBatch = "predict_batch"
)

// callModel runs call, the plugin call named method, in one of the
// model's concurrency slots, with the model's predict timeout. The slot is
// taken last, so that slow uploads and bad inputs never hold one; the wait
// for it does not count towards the timeout. An expired timeout becomes a
// *problem.TimeoutError. The wait and the call are measured.
func (s *server) callModel(ctx context.Context, entry *registry.Entry, method string, call func(context.Context) error) error {
	name, version := entry.Info.QualifiedName, entry.Info.Version
	waited, err := entry.Limiter.Acquire(ctx)
	if waited > 0 {
		s.obs.ObserveQueueWait(name, version, waited)
	}
	if err != nil {
		var busy *limit.BusyError
		if errors.As(err, &busy) {
			s.obs.QueueRejected(name, version, busy.Reason)
		}
		return err
	}
	defer entry.Limiter.Release()
	if entry.PredictTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, entry.PredictTimeout)
		defer cancel()
	}
	begin := time.Now()
	err = call(ctx)
	s.obs.ObservePluginCall(name, version, method, time.Since(begin), err)
	if errors.Is(err, context.DeadlineExceeded) {
		return &problem.TimeoutError{Timeout: entry.PredictTimeout, Err: err}
	}
	return err
}

// checkContentTypes checks the Content-Type headers of a request: there
// must be exactly one, and checkContentType must accept it. Two would let
// this server and a proxy in front of it each believe another one.
func checkContentTypes(values []string) error {
	if len(values) > 1 {
		return problem.UnsupportedMediaType(strings.Join(values, ", "))
	}
	if len(values) == 0 {
		return checkContentType("")
	}
	return checkContentType(values[0])
}

// checkContentType accepts application/json and application/*+json, with
// no charset or a UTF-8 one (JSON is UTF-8, RFC 8259).
func checkContentType(contentType string) error {
	if contentType == "" {
		return problem.UnsupportedMediaType("")
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return problem.UnsupportedMediaType(contentType)
	}
	sub, ok := strings.CutPrefix(mediaType, "application/")
	if !ok || (sub != "json" && !strings.HasSuffix(sub, "+json")) {
		return problem.UnsupportedMediaType(contentType)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return problem.UnsupportedMediaType(contentType)
	}
	return nil
}

// errReadBody marks the errors of reading a request body: the request's
// context may be canceled by then (net/http cancels it when a read fails)
// although the client still waits for an answer.
var errReadBody = errors.New("read body")

// readBody reads the whole request body, refusing more than limit bytes.
// A body that does not arrive within the server's read timeout is a 408,
// one that ends early a 400.
func readBody(req *http.Request, limit int64) ([]byte, error) {
	if req.ContentLength > limit {
		return nil, problem.BodyTooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		// A limit applied before ours, by middleware or the server.
		return nil, fmt.Errorf("read body: %w: %w", err, problem.BodyTooLarge(tooLarge.Limit))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, fmt.Errorf("%w: %w: %w", errReadBody, err, problem.RequestTimeout())
	case err != nil:
		return nil, fmt.Errorf("%w: %w: %w", errReadBody, err, problem.MalformedJSON("the request body could not be read completely"))
	case int64(len(body)) > limit:
		return nil, problem.BodyTooLarge(limit)
	}
	return body, nil
}

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

// describeJSONError explains a parse error of body for a person.
func describeJSONError(body []byte, err error) string {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		// Offset counts the bytes read, the offending one included.
		return syntax.Error() + " " + position(body, syntax.Offset-1)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of JSON input " + position(body, int64(len(body))) + ": the document is incomplete"
	}
	// jsonschema.UnmarshalJSON reports data after the document without
	// saying where; find it.
	dec := json.NewDecoder(bytes.NewReader(body))
	var first json.RawMessage
	if dec.Decode(&first) == nil {
		off := dec.InputOffset()
		for off < int64(len(body)) && strings.IndexByte(jsonSpace, body[off]) >= 0 {
			off++
		}
		if off < int64(len(body)) {
			return "unexpected data after the JSON document " + position(body, off) + "; send exactly one JSON document"
		}
	}
	return "the request body is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

// position describes byte offset off of body as "at line L, column C (byte
// offset off)", lines and columns counted from 1, columns in characters.
func position(body []byte, off int64) string {
	off = max(0, min(off, int64(len(body))))
	before := body[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col := utf8.RuneCount(before[lineStart:]) + 1
	return fmt.Sprintf("at line %d, column %d (byte offset %d)", line, col, off)
}
