// The predict page: a form generated from the model's input schema by
// json-editor, sent to the API as JSON; the answer is shown for people and
// as JSON, and a 422 problem marks the offending fields.
//
// The page's Content-Security-Policy allows no inline script or style: this
// file and json-editor are loaded from /static/, json-editor's style
// injection is turned off (disable_theme_rules) and the theme below never
// writes a style attribute.
(function () {
  'use strict'

  const data = JSON.parse(document.getElementById('model-data').textContent)
  const inputSchema = data.input_schema || {}
  const outputSchema = data.output_schema || {}
  const examples = Array.isArray(inputSchema.examples) ? inputSchema.examples : []

  const form = document.getElementById('predict-form')
  const holder = document.getElementById('editor')
  const loading = document.getElementById('editor-loading')
  const button = document.getElementById('predict-button')
  const exampleSelect = document.getElementById('example-select')
  const statusBox = document.getElementById('result-status')
  const problemBox = document.getElementById('problem')
  const resultBox = document.getElementById('result')
  const highlightBox = document.getElementById('result-highlight')
  const viewBox = document.getElementById('result-view')
  const jsonBox = document.getElementById('result-json')

  // el creates an element with attributes and children (nodes or strings).
  function el (tag, attrs, ...children) {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue
      if (k === 'class') e.className = v
      else e.setAttribute(k, v === true ? '' : v)
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue
      e.append(c instanceof Node ? c : String(c))
    }
    return e
  }

  // humanize turns a property name into a label: "sepal_length" → "Sepal length".
  function humanize (key) {
    const s = String(key).replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').trim()
    if (s.toLowerCase() === 'id') return 'ID'
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase()
  }

  // ---------------------------------------------------------------------
  // Schemas

  // resolve follows a local $ref ("#/$defs/X") in root, keywords beside the
  // $ref winning; seen guards against cycles.
  function resolve (schema, root, seen) {
    seen = seen || new Set()
    while (schema && typeof schema === 'object' && typeof schema.$ref === 'string' &&
           schema.$ref.startsWith('#') && !seen.has(schema.$ref)) {
      seen.add(schema.$ref)
      let target = root
      for (const raw of schema.$ref.slice(1).split('/').slice(1)) {
        const tok = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
        target = target && typeof target === 'object' ? target[tok] : undefined
      }
      if (!target || typeof target !== 'object') break
      const rest = Object.assign({}, schema)
      delete rest.$ref
      schema = Object.assign({}, target, rest)
    }
    return schema && typeof schema === 'object' ? schema : {}
  }

  function typeOf (schema) {
    const t = schema.type
    if (Array.isArray(t)) return t.find((x) => x !== 'null') || 'null'
    if (typeof t === 'string') return t
    if (schema.properties) return 'object'
    if (schema.items) return 'array'
    return undefined
  }

  // limits describes a schema's bounds in words, like the model page does:
  // "more than 0, at most 12".
  function limits (s) {
    const out = []
    const count = (lo, hi, unit) => {
      const plural = (n) => n === 1 ? unit : unit + 's'
      if (lo !== undefined && hi !== undefined) return lo === hi ? `exactly ${lo} ${plural(lo)}` : `${lo} to ${hi} ${plural(hi)}`
      if (lo !== undefined && lo > 0) return `at least ${lo} ${plural(lo)}`
      if (hi !== undefined) return `at most ${hi} ${plural(hi)}`
      return ''
    }
    if (typeof s.exclusiveMinimum === 'number') out.push(`more than ${s.exclusiveMinimum}`)
    else if (typeof s.minimum === 'number') out.push(`at least ${s.minimum}`)
    if (typeof s.exclusiveMaximum === 'number') out.push(`less than ${s.exclusiveMaximum}`)
    else if (typeof s.maximum === 'number') out.push(`at most ${s.maximum}`)
    if (typeof s.multipleOf === 'number') out.push(`a multiple of ${s.multipleOf}`)
    out.push(count(s.minLength, s.maxLength, 'character'))
    out.push(count(s.minItems, s.maxItems, 'item'))
    return out.filter(Boolean).join(', ')
  }

  // prepare returns a copy of the input schema adjusted for the form:
  // labels for untitled properties, checkboxes for booleans, text areas for
  // long texts, number keyboards on phones, examples as placeholders.
  // Validation keywords are not touched: the server has the last word.
  function prepare (schema) {
    const copy = JSON.parse(JSON.stringify(schema))
    const visited = new Set()
    function walk (s, key) {
      if (!s || typeof s !== 'object' || visited.has(s)) return
      visited.add(s)
      if (key !== undefined && !s.title && !s.$ref) s.title = humanize(key)
      const allowed = limits(s)
      if (allowed) s.description = (s.description ? s.description + ' ' : '') + 'Allowed: ' + allowed + '.'
      const opts = s.options = Object.assign({}, s.options)
      const attrs = opts.inputAttributes = Object.assign({}, opts.inputAttributes)
      const example = Array.isArray(s.examples) && s.examples.length ? s.examples[0] : undefined
      switch (typeOf(s)) {
        case 'boolean':
          if (!s.format) s.format = 'checkbox'
          break
        case 'number':
          attrs.inputmode = 'decimal'
          break
        case 'integer':
          attrs.inputmode = 'numeric'
          break
        case 'string':
          if (!s.format && !s.enum && (s.maxLength === undefined || s.maxLength > 200)) s.format = 'textarea'
          break
      }
      if (example !== undefined && (typeof example === 'string' || typeof example === 'number') && !s.enum) {
        attrs.placeholder = 'e.g. ' + example
      }
      if (Object.keys(attrs).length === 0) delete opts.inputAttributes
      if (Object.keys(opts).length === 0) delete s.options
      for (const [k, v] of Object.entries(s.properties || {})) walk(v, k)
      for (const defs of [s.$defs, s.definitions]) {
        for (const [k, v] of Object.entries(defs || {})) {
          if (v && typeof v === 'object' && !v.title) v.title = humanize(k)
          walk(v)
        }
      }
      if (s.items && !Array.isArray(s.items)) walk(s.items)
      for (const kw of ['oneOf', 'anyOf', 'allOf']) (s[kw] || []).forEach((x) => walk(x))
      if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties)
    }
    walk(copy)
    // The page's heading names the form: no "root" title above the fields.
    if (typeOf(copy) === 'object') copy.options = Object.assign({}, copy.options, { compact: true })
    return copy
  }

  // ---------------------------------------------------------------------
  // A json-editor theme that writes no style attribute (CSP) and marks
  // fields the way the stylesheet (Pico) expects: aria-invalid and a
  // <small> below the field.

  const Base = window.JSONEditor.defaults.themes.html
  class ModelhostTheme extends Base {
    getHiddenLabel (text) {
      const label = el('label', { class: 'visually-hidden' })
      label.textContent = text
      return label
    }

    visuallyHidden (element) {
      if (element) element.classList.add('visually-hidden')
    }

    getHiddenText (text) {
      return el('span', { class: 'visually-hidden' }, text)
    }

    getOptInCheckbox (formname) {
      const label = this.getHiddenLabel(formname + ' opt-in')
      label.setAttribute('for', formname + '-opt-in')
      const checkbox = el('input', { type: 'checkbox', id: formname + '-opt-in', class: 'json-editor-opt-in' })
      return { label, checkbox, container: el('span', { class: 'je-opt-in' }, checkbox, label) }
    }

    getFormInputDescription (text) {
      return el('small', { class: 'je-desc' }, this.cleanText(text))
    }

    getDescription (text) {
      return el('p', { class: 'je-desc' }, this.cleanText(text))
    }

    getErrorMessage (text) {
      return el('p', { class: 'je-error', role: 'alert' }, text)
    }

    getButton (text, icon, title) {
      const b = super.getButton(text, icon, title)
      b.classList.add('secondary', 'outline', 'je-btn')
      return b
    }

    addInputError (input, text) {
      input.setAttribute('aria-invalid', 'true')
      if (!input.errmsg) {
        const group = this.closest(input, '.form-control') || input.controlgroup || input.parentNode
        const id = (input.id || 'field-' + Math.random().toString(36).slice(2)) + '-error'
        input.errmsg = el('small', { class: 'field-error', id })
        // Right below the control, above its description; a checkbox sits
        // inside its label, so its message goes at the end of the group.
        if (input.type === 'checkbox' || input.parentNode !== group) group.appendChild(input.errmsg)
        else input.after(input.errmsg)
        const described = input.getAttribute('aria-describedby')
        input.setAttribute('aria-describedby', described ? described + ' ' + id : id)
      }
      input.errmsg.hidden = false
      input.errmsg.textContent = text
    }

    removeInputError (input) {
      input.removeAttribute('aria-invalid')
      if (input.errmsg) {
        input.errmsg.hidden = true
        input.errmsg.textContent = ''
      }
    }
  }
  window.JSONEditor.defaults.themes.modelhost = ModelhostTheme

  const editor = new window.JSONEditor(holder, {
    schema: prepare(inputSchema),
    theme: 'modelhost',
    iconlib: null,
    disable_theme_rules: true,
    disable_edit_json: true,
    disable_properties: true,
    disable_collapse: true,
    disable_array_reorder: true,
    disable_array_delete_all_rows: true,
    disable_array_delete_last_row: true,
    prompt_before_delete: false,
    no_additional_properties: true,
    remove_empty_properties: true,
    show_errors: 'interaction',
    form_name_root: 'root'
  })

  // fillWith puts an example in the form. As a first value ("initial"),
  // json-editor keeps the optional fields that the example leaves out, at
  // their defaults, rather than removing them from the form.
  function fillWith (example) {
    serverErrors = []
    editor.root.setValue(example, true)
  }

  // token is the API token the user gave after a 401, kept for this tab
  // only (sessionStorage), never in the page or a cookie.
  const tokenKey = 'modelhost.api-token'
  let token = ''
  try { token = window.sessionStorage.getItem(tokenKey) || '' } catch (_) {}

  // serverErrors are the field errors of the last 422, each with the
  // field's value when it was sent: shown until that value changes.
  let serverErrors = []
  let submitted = false

  function valueAt (path) {
    const ed = editor.getEditor(path)
    return ed ? JSON.stringify(ed.getValue()) : undefined
  }

  function showErrors () {
    serverErrors = serverErrors.filter((e) => valueAt(e.path) === e.value)
    const client = editor.validate() || []
    editor.showValidationErrors(client.concat(serverErrors.map((e) => ({ path: e.path, property: 'server', message: e.message }))))
  }

  // clearStale removes the error shown on a field the user has not touched
  // when it no longer applies. json-editor shows the errors of its first
  // validation, made before the example is filled in, and afterwards
  // updates only the fields the user changed.
  function clearStale (errors) {
    for (const [path, ed] of Object.entries(editor.editors)) {
      if (!ed || ed.is_dirty || !ed.input || !ed.theme) continue
      if (!errors.some((e) => e.path === path)) ed.theme.removeInputError(ed.input)
    }
  }

  editor.on('ready', () => {
    if (examples.length) fillWith(examples[0])
    clearStale([])
    loading.remove()
    button.disabled = false
    if (exampleSelect) exampleSelect.disabled = false
    form.classList.add('ready')
  })

  editor.on('change', () => {
    if (submitted) showErrors()
    else clearStale(editor.validate() || [])
  })

  if (exampleSelect) {
    exampleSelect.addEventListener('change', () => {
      const ex = examples[Number(exampleSelect.value)]
      if (ex !== undefined) fillWith(ex)
    })
  }

  // Ctrl+Enter (⌘+Enter) sends the form from anywhere, text areas included.
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault()
      form.requestSubmit()
    }
  })

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    if (!editor.ready || button.getAttribute('aria-busy') === 'true') return
    submitted = true
    serverErrors = []
    const value = editor.getValue()
    button.setAttribute('aria-busy', 'true')
    button.disabled = true
    setStatus('Asking the model…')
    const started = performance.now()
    let res, text
    try {
      const headers = { 'Content-Type': 'application/json', Accept: 'application/json' }
      if (token) headers.Authorization = 'Bearer ' + token
      res = await fetch(data.predict_url, { method: 'POST', headers, body: JSON.stringify(value) })
      text = await res.text()
    } catch (err) {
      showProblem({ title: 'The server cannot be reached', detail: String(err && err.message ? err.message : err) })
      return
    } finally {
      button.removeAttribute('aria-busy')
      button.disabled = false
    }
    let body
    try { body = JSON.parse(text) } catch (_) { body = undefined }
    if (res.ok && body !== undefined) {
      showResult(body, Math.round(performance.now() - started))
    } else if (body && typeof body === 'object' && !Array.isArray(body)) {
      showProblem(Object.assign({ status: res.status, title: res.statusText }, body))
    } else {
      showProblem({ status: res.status, title: res.statusText || 'Error', detail: text })
    }
    showErrors()
    revealResult()
  })

  // revealResult scrolls the answer into view when it is below the form,
  // as on a phone.
  function revealResult () {
    const section = statusBox.closest('section')
    const top = section.getBoundingClientRect().top
    if (top > window.innerHeight * 0.6) section.scrollIntoView({ block: 'start', behavior: 'smooth' })
  }

  function setStatus (message) {
    statusBox.replaceChildren(el('p', { class: 'muted', 'aria-busy': message.endsWith('…') ? 'true' : false }, message))
  }

  // ---------------------------------------------------------------------
  // Errors

  // pathOf maps a JSON Pointer of the input ("/documents/0/text") to the
  // json-editor path of the nearest field that exists ("root.documents.0.text")
  // and the tokens below it that have no field (a property that is not
  // allowed, say).
  function pathOf (pointer) {
    const tokens = pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    const rest = []
    while (tokens.length && !editor.getEditor(['root', ...tokens].join('.'))) rest.unshift(tokens.pop())
    return { path: ['root', ...tokens].join('.'), rest }
  }

  function labelOf (path) {
    const ed = editor.getEditor(path)
    if (!ed || path === 'root') return 'The input'
    const parts = path.split('.').slice(1)
    const title = (ed.schema && ed.schema.title) || humanize(parts[parts.length - 1])
    const where = parts.slice(0, -1).map((p) => /^\d+$/.test(p) ? '#' + (Number(p) + 1) : humanize(p))
    return where.length ? where.join(' › ') + ' › ' + title : title
  }

  function showProblem (p) {
    resultBox.hidden = true
    statusBox.replaceChildren()
    const items = []
    for (const fe of Array.isArray(p.errors) ? p.errors : []) {
      if (typeof fe.pointer !== 'string') continue
      const { path, rest } = pathOf(fe.pointer)
      const message = rest.length ? `${rest.join('.')}: ${fe.detail}` : fe.detail
      serverErrors.push({ path, message, value: valueAt(path) })
      const link = el('a', { href: '#', 'data-path': path }, labelOf(path))
      link.addEventListener('click', (ev) => {
        ev.preventDefault()
        focusField(path)
      })
      items.push(el('li', {}, link, ': ', message, ' ', el('code', { class: 'pointer' }, fe.pointer || '/')))
    }
    const title = p.title || 'Error'
    problemBox.replaceChildren(el('article', { class: 'problem' },
      el('header', {},
        el('strong', { class: 'problem-title' }, title),
        p.status ? el('span', { class: 'badge problem-status' }, String(p.status)) : null),
      p.detail ? el('p', { class: 'problem-detail' }, p.detail) : null,
      items.length ? el('ul', { class: 'problem-errors' }, items) : null,
      items.length ? el('p', { class: 'muted small' }, 'The fields concerned are marked in the form.') : null,
      typeof p.type === 'string' && /^https?:/.test(p.type) ? el('p', { class: 'small' }, el('a', { href: p.type, rel: 'noreferrer' }, 'What this error means')) : null
    ))
    if (p.status === 401) problemBox.firstChild.append(tokenForm())
    problemBox.hidden = false
  }

  // tokenForm asks for the API token when the server requires one.
  function tokenForm () {
    const input = el('input', { type: 'password', id: 'api-token', name: 'api-token', autocomplete: 'off', required: true, 'aria-describedby': 'api-token-help' })
    const f = el('form', { class: 'token-form', id: 'token-form' },
      el('label', { for: 'api-token' }, token ? 'The API token was not accepted. Another token' : 'This server needs an API token to run predictions. Token'),
      el('div', { role: 'group' }, input, el('button', { type: 'submit' }, 'Use it')),
      el('small', { id: 'api-token-help' }, 'Kept in this browser tab only, and sent with each prediction as a bearer token.'))
    f.addEventListener('submit', (ev) => {
      ev.preventDefault()
      token = input.value.trim()
      try { window.sessionStorage.setItem(tokenKey, token) } catch (_) {}
      form.requestSubmit()
    })
    return f
  }

  function focusField (path) {
    const ed = editor.getEditor(path)
    if (!ed) return
    const target = ed.input || ed.container
    if (target && target.scrollIntoView) target.scrollIntoView({ block: 'center' })
    if (target && target.focus) target.focus()
  }

  // ---------------------------------------------------------------------
  // Results

  const highlightNames = ['label', 'species', 'class', 'category', 'prediction', 'predicted_class', 'sentiment', 'result']

  // highlightKey is the property of an object value to show prominently: a
  // string with an enum in the schema, or with a telling name.
  function highlightKey (value, schema) {
    const props = (schema && schema.properties) || {}
    const keys = Object.keys(value)
    const enumKey = keys.find((k) => typeof value[k] === 'string' && Array.isArray(resolve(props[k], outputSchema).enum))
    if (enumKey) return enumKey
    return keys.find((k) => typeof value[k] === 'string' && highlightNames.includes(k.toLowerCase()))
  }

  function isDistribution (value) {
    const vals = Object.values(value)
    if (vals.length < 2 || !vals.every((v) => typeof v === 'number' && v >= 0 && v <= 1)) return false
    const sum = vals.reduce((a, b) => a + b, 0)
    return sum > 0.98 && sum < 1.02
  }

  function percent (p) {
    return (Math.round(p * 1000) / 10).toLocaleString('en', { maximumFractionDigits: 1 }) + ' %'
  }

  function badge (value) {
    const slug = String(value).toLowerCase().replace(/[^a-z0-9]+/g, '-')
    return el('mark', { class: 'result-label label-' + slug }, value)
  }

  function showResult (body, ms) {
    problemBox.hidden = true
    problemBox.replaceChildren()
    setStatus(`Answered in ${ms} ms.`)
    const schema = resolve(outputSchema, outputSchema)
    highlightBox.replaceChildren()
    let shown = body
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const key = highlightKey(body, schema)
      if (key) {
        shown = Object.assign({}, body)
        delete shown[key]
        const propSchema = resolve((schema.properties || {})[key], outputSchema)
        // A probability for the highlighted value, from a sibling distribution.
        let prob = null
        for (const v of Object.values(body)) {
          if (v && typeof v === 'object' && !Array.isArray(v) && isDistribution(v) && typeof v[body[key]] === 'number') prob = v[body[key]]
        }
        highlightBox.append(el('div', { class: 'result-hero' },
          el('span', { class: 'result-hero-label' }, propSchema.title || humanize(key)),
          el('span', { class: 'result-hero-value' }, badge(body[key])),
          prob !== null ? el('span', { class: 'result-hero-prob' }, percent(prob) + ' probability') : null))
      }
    }
    viewBox.replaceChildren(render(shown, schema, 0))
    jsonBox.textContent = JSON.stringify(body, null, 2)
    resultBox.hidden = false
  }

  // render shows a JSON value for people, guided by its schema.
  function render (value, schema, depth) {
    schema = resolve(schema, outputSchema)
    if (value === null || value === undefined) return el('span', { class: 'muted' }, '—')
    if (Array.isArray(value)) {
      if (value.length === 0) return el('span', { class: 'muted' }, 'none')
      const itemSchema = resolve(schema.items, outputSchema)
      const ref = schema.items && typeof schema.items.$ref === 'string' ? schema.items.$ref : ''
      const itemName = itemSchema.title || (ref ? humanize(ref.slice(ref.lastIndexOf('/') + 1)) : 'Item')
      if (value.every((v) => v === null || typeof v !== 'object')) {
        return el('span', {}, value.map((v, i) => [i ? ', ' : '', render(v, itemSchema, depth + 1)]))
      }
      if (value.every(isFlatObject)) return renderTable(value, itemSchema, depth)
      return el('ol', { class: 'result-items' }, value.map((v, i) => el('li', {}, renderItem(v, itemSchema, itemName, i, depth + 1))))
    }
    if (typeof value === 'object') {
      if (isDistribution(value)) return renderDistribution(value, schema)
      const props = schema.properties || {}
      return el('dl', { class: 'result-kv' }, Object.keys(value).map((k) => {
        const s = resolve(props[k], outputSchema)
        const wide = value[k] !== null && typeof value[k] === 'object'
        return el('div', { class: wide ? 'result-kv-row wide' : 'result-kv-row' },
          el('dt', { title: s.description || false }, s.title || humanize(k)),
          el('dd', {}, render(value[k], s, depth + 1)))
      }))
    }
    if (typeof value === 'string') {
      if (Array.isArray(schema.enum)) return badge(value)
      return el('span', { class: value.length > 60 ? 'result-text' : value.length <= 24 ? 'result-short' : false }, value)
    }
    if (typeof value === 'boolean') return el('span', {}, value ? 'yes' : 'no')
    return el('span', { class: 'result-number' }, String(value))
  }

  function isFlatObject (v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v) &&
      Object.values(v).every((x) => x === null || typeof x !== 'object')
  }

  // renderTable shows an array of flat objects as a table, one column per
  // property: the schema's order first, then any other.
  function renderTable (rows, schema, depth) {
    const props = schema.properties || {}
    const keys = Object.keys(props).filter((k) => rows.some((r) => k in r))
    for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k)
    const schemas = Object.fromEntries(keys.map((k) => [k, resolve(props[k], outputSchema)]))
    return el('div', { class: 'table-wrap' }, el('table', { class: 'result-table striped' },
      el('thead', {}, el('tr', {}, keys.map((k) => el('th', { scope: 'col', title: schemas[k].description || false }, schemas[k].title || humanize(k))))),
      el('tbody', {}, rows.map((r) => el('tr', {}, keys.map((k) => el('td', {}, k in r ? render(r[k], schemas[k], depth + 1) : '')))))))
  }

  // renderItem shows one object of an array as a card headed by its
  // highlighted value and its id, if it has them.
  function renderItem (value, schema, name, index, depth) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return render(value, schema, depth)
    const key = highlightKey(value, schema)
    const idKey = Object.keys(value).find((k) => k.toLowerCase() === 'id' && typeof value[k] === 'string')
    const rest = {}
    for (const [k, v] of Object.entries(value)) if (k !== key && k !== idKey) rest[k] = v
    const title = name + ' ' + (index + 1)
    return el('article', { class: 'result-item' },
      el('header', {},
        el('span', { class: 'result-item-title' }, title, idKey ? el('code', {}, value[idKey]) : null),
        key ? badge(value[key]) : null),
      render(rest, schema, depth))
  }

  function renderDistribution (value, schema) {
    const props = schema.properties || {}
    const entries = Object.entries(value).sort((a, b) => b[1] - a[1])
    return el('dl', { class: 'result-dist' }, entries.map(([k, p]) => {
      const s = resolve(props[k], outputSchema)
      return el('div', { class: 'result-dist-row' },
        el('dt', {}, s.title || k),
        el('dd', { class: 'result-dist-bar' }, el('progress', { value: String(p), max: '1', 'aria-label': s.title || k })),
        el('dd', { class: 'result-number' }, percent(p)))
    }))
  }
})()
