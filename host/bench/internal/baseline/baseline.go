// Package baseline is the benchmark's lower bound: a model compiled into
// a minimal Echo application that does the work the host's predict
// handler does, with no plugin hop.
//
// POST /api/models/:name/predict looks the model up, checks the
// Content-Type, reads the body up to a limit, parses it with
// jsonschema.UnmarshalJSON, validates it against the input schema compiled
// with schemacheck.Compile (as the host's registry compiles it), calls the
// model's Predict (the SDK's strict decode, the model's function, the
// encode) under a timeout, checks that the output is JSON and sends it.
// There is no middleware: no request IDs, security headers, concurrency
// limits or logging, which the host adds.
package baseline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

// Options configures New.
type Options struct {
	// MaxBodyBytes is the largest request body accepted; default 1 MiB,
	// the host's default.
	MaxBodyBytes int64
	// PredictTimeout bounds one Predict call; default 30s, the host's
	// default.
	PredictTimeout time.Duration
}

type entry struct {
	model  sdk.MLModel
	schema *jsonschema.Schema
}

// New returns an Echo application that serves models at
// POST /api/models/:name/predict, as the host would, but in process.
func New(opts Options, models ...sdk.MLModel) (*echo.Echo, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.PredictTimeout <= 0 {
		opts.PredictTimeout = 30 * time.Second
	}
	byName := make(map[string]entry, len(models))
	for _, m := range models {
		s, err := schemacheck.Compile(m.InputSchema())
		if err != nil {
			return nil, err
		}
		byName[m.Info().QualifiedName] = entry{model: m, schema: s}
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		status := http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status = he.Code
		}
		if !c.Response().Committed {
			_ = c.JSON(status, map[string]any{"status": status, "detail": err.Error()})
		}
	}
	e.POST("/api/models/:name/predict", func(c echo.Context) error {
		en, ok := byName[c.Param("name")]
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "model not found")
		}
		req := c.Request()
		if !isJSON(req.Header.Get(echo.HeaderContentType)) {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send application/json")
		}
		if req.ContentLength > opts.MaxBodyBytes {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, opts.MaxBodyBytes+1))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		if int64(len(body)) > opts.MaxBodyBytes {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		if err := en.schema.Validate(doc); err != nil {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
		}
		ctx, cancel := context.WithTimeout(req.Context(), opts.PredictTimeout)
		defer cancel()
		out, err := en.model.Predict(ctx, body)
		switch {
		case errors.Is(err, sdk.ErrInvalidInput):
			return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
		case err != nil:
			return err
		}
		if !json.Valid(out) {
			return errors.New("model output is not JSON")
		}
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, out)
	})
	return e, nil
}

// isJSON accepts application/json and application/*+json with no charset
// or a UTF-8 one, as the host does.
func isJSON(contentType string) bool {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	sub, ok := strings.CutPrefix(mediaType, "application/")
	if !ok || (sub != "json" && !strings.HasSuffix(sub, "+json")) {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}
