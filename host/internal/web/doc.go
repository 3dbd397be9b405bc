// Package web is the host's web UI, pages for people beside the JSON API:
//
//	GET /                                        the served models, one card per name, or how to add one
//	GET /models/:name                            one model: metadata, its input and output fields as tables
//	GET /models/:name/predict                    a form generated from the input schema that runs a prediction
//	GET /models/:name/versions/:version          the same for one version of the model
//	GET /models/:name/versions/:version/predict  and its form
//	GET /static/:hash/*                          stylesheets, scripts and the vendored libraries, cached for ever
//
// A model may be served in several versions, each by its own plugin. The
// unversioned pages show its default version (registry.Get) and post to
// the unversioned endpoints; the versioned pages show the version named
// in the URL, with a form built from that version's input schema that
// posts to /api/models/:name/versions/:version/predict. The home page
// lists each name once, with its versions, the default marked; a model's
// page and form list its versions too when it has several.
//
// Register adds the routes to the Echo instance of package api, after
// api.New. The templates (html/template, in templates/) are parsed and the
// assets (in static/) embedded and hashed once, by New, which fails if any
// is broken. The assets are streamed from the binary, not copied into the
// heap; a text asset's gzip variant is made on its first request that
// accepts gzip, and kept. Every page is rendered into a buffer first and
// sent with a strict Content-Security-Policy (no inline script or style)
// and the usual security headers; an unknown model or path under /models/
// is answered with an HTML 404 page by the handlers themselves, as the
// Echo error handler of package api answers problem+json.
//
// A model's page describes its JSON Schemas for people with NewSchemaView,
// which follows local $refs with a guard against cycles. The predict page
// hands the schemas to static/predict.js in a JSON data block; the script
// builds the form with json-editor, posts the input to the API and shows
// the answer, and marks the fields named by a 422 problem's pointers.
//
// The vendored libraries, json-editor and Pico CSS, are refreshed from npm
// by `make web-assets` (update-vendor.sh). docs/web-ui.md describes the
// pages for their users; host/browser tests them in a real browser.
package web
