/* voice-coach report: navigation between the plot, the lists, the transcript and the audio.
   Reads numbers and the figure from #vc-data, unpacks the series and word times (packing.py) and
   splits the transcript's text into word spans; never writes result text into the page. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("vc-data").textContent);
  var audio = document.getElementById("audio");
  var gd = document.getElementById("timeline");
  var nowEl = document.getElementById("now");
  var box = document.getElementById("transcript");
  /* Words in time order (the page shows them by turns, so overlapping speech is out of order);
     filled by setupWords() once the word times are unpacked. */
  var words = [], starts = [], ends = [];
  var series = {};   /* unpacked: key -> Float64Array, NaN for null */
  var warnItems = Array.prototype.slice.call(document.querySelectorAll("#warnings button[data-t]"));
  var duration = data.duration_s || 0;
  var X0 = data.x0_ms || 0;   /* where t = 0 sits on the date axis, ms (see X0_MS in html.py) */
  var plotReady = false;
  var libraryError = null;   /* why the embedded plot library could not be run, if it could not */

  /* m:ss.t (h:mm:ss.t past an hour); without tenths m:ss, rounded, as clock() in output/format.py. */
  function clock(t, noTenths) {
    t = Math.max(0, t || 0);
    var d = Math.round(t * 10), tenths = d % 10, s = noTenths ? Math.round(t) : (d - tenths) / 10;
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), ss = s % 60;
    var mm = h ? (m < 10 ? "0" : "") + m : String(m);
    return (h ? h + ":" : "") + mm + ":" + (ss < 10 ? "0" : "") + ss + (noTenths ? "" : "." + tenths);
  }

  /* The lists show each item's time (start–end; a phrase its start) from its data-t / data-end,
     after the kind's swatch. */
  Array.prototype.forEach.call(document.querySelectorAll(".seek-list button[data-t]"), function (b) {
    var when = document.createElement("span"), t = parseFloat(b.dataset.t);
    when.className = "when";
    when.textContent = clock(t) + (b.dataset.end && !b.closest("#phrases") ? "–" + clock(parseFloat(b.dataset.end)) : "");
    var swatch = b.firstElementChild && b.firstElementChild.classList.contains("swatch") ? b.firstElementChild : null;
    b.insertBefore(when, swatch ? swatch.nextSibling : b.firstChild);
  });

  Array.prototype.forEach.call(document.querySelectorAll("#warnings .raised"), function (el) {
    el.title = "when the cue was raised, as a live agent would have seen it";
  });

  // ---- unpacking (the format is described in packing.py) ----------------------------------------
  function unpack(packed) {
    if (!packed || !packed.sections || !packed.sections.length) return Promise.resolve({});
    return window.vcLoader.inflate(packed.b64).then(function (buf) {
      return readSections(new Uint8Array(buf), packed.sections);
    });
  }
  function readSections(b, sections) {
    var pos = 0, out = {};
    function varint() {
      var v = 0, mul = 1, byte;
      do {
        if (pos >= b.length) throw new Error("packed data ends early");
        byte = b[pos++]; v += (byte & 127) * mul; mul *= 128;
      } while (byte >= 128);
      return v;
    }
    sections.forEach(function (sec) {
      var pairs = varint(), runs = [], arr = new Float64Array(sec.n), i = 0, q = 0, p, k;
      for (p = 0; p < 2 * pairs; p++) runs.push(varint());
      for (p = 0; p < pairs; p++) {
        if (i + runs[2 * p] + runs[2 * p + 1] > sec.n) throw new Error("packed " + sec.key + " is too long");
        for (k = 0; k < runs[2 * p]; k++) arr[i++] = NaN;
        for (k = 0; k < runs[2 * p + 1]; k++) {
          var z = varint();
          q += z % 2 ? -(z + 1) / 2 : z / 2;
          arr[i++] = q / sec.scale;
        }
      }
      if (i !== sec.n) throw new Error("packed " + sec.key + " has " + i + " values, not " + sec.n);
      out[sec.key] = arr;
    });
    return out;
  }

  // ---- transcript words ----------------------------------------------------------------------
  /* Each turn is plain text (words separated by one space) and runs of marked words in
     <span class="mk ...">, titled by their marks from data.words.titles; words.lowp has the
     recogniser's probability of the uncertain words (null for the others). Split the text nodes into one span per word (Text.splitText moves the
     page's own text, nothing is parsed or written), timed in page order by words.t / words.len. */
  function setupWords(u) {
    var info = data.words, ts = u["words.t"], lens = u["words.len"], lowp = u["words.lowp"];
    if (!box || !info || !ts || !lens) return;
    var k = 0, list = [];
    function splitInto(node, cls, title) {
      var cur = node;
      while (cur) {
        var text = cur.data, a = 0;
        while (a < text.length && text.charCodeAt(a) === 32) a++;
        if (a === text.length) return;
        var word = a ? cur.splitText(a) : cur, b = word.data.indexOf(" ");
        cur = b >= 0 ? word.splitText(b) : null;
        var span = document.createElement("span");
        span.className = cls;
        word.parentNode.replaceChild(span, word);
        span.appendChild(word);
        if (lowp && lowp[k] === lowp[k]) {  /* an uncertain word: its own title, with the run's */
          span.classList.add("lowp");
          span.title = (title ? title + ", " : "") + "p=" + lowp[k].toFixed(2);
        }
        if (k < ts.length) {
          span.dataset.t = ts[k].toFixed(2);
          if (lens[k] > 0) span.dataset.end = (ts[k] + lens[k]).toFixed(2);
          list.push({ el: span, t: ts[k], end: ts[k] + lens[k], i: k });
        }
        k++;
      }
    }
    Array.prototype.forEach.call(box.children, function (turn) {
      var first = k;
      Array.prototype.slice.call(turn.childNodes).forEach(function (node) {
        if (node.nodeType === 3) splitInto(node, "w");
        else if (node.classList && node.classList.contains("mk")) {
          var marks = node.className.split(/\s+/).filter(function (c) { return c && c !== "mk"; }).join(" ");
          if (!node.title && info.titles && info.titles[marks]) node.title = info.titles[marks];
          Array.prototype.slice.call(node.childNodes).forEach(function (c) {
            if (c.nodeType === 3) splitInto(c, "w " + marks, node.title);
          });
        }
      });
      if (first >= ts.length || k === first) return;
      var head = document.createDocumentFragment(), stamp = document.createElement("button");
      stamp.type = "button";
      stamp.className = "seek stamp";
      stamp.dataset.t = ts[first].toFixed(2);
      stamp.textContent = clock(ts[first], true);
      head.appendChild(stamp);
      if (info.labels) {
        var label = document.createElement("span");
        label.className = "spk";
        label.textContent = turn.classList.contains("customer") ? "Customer" : "Agent";
        head.appendChild(label);
      }
      turn.insertBefore(head, turn.firstChild);
    });
    if (k !== info.n || k !== ts.length) throw new Error("transcript has " + k + " words, word times " + ts.length);
    list.sort(function (a, b) { return a.t - b.t || a.i - b.i; });
    words = list.map(function (w) { return w.el; });
    starts = list.map(function (w) { return w.t; });
    ends = list.map(function (w) { return w.end; });
  }

  function xOf(t) { return X0 + t * 1000; }
  /* Plotly date axes report positions as numbers (ms) or strings "1970-01-02 00:01:02.5". */
  function toSec(v) {
    if (typeof v === "number") return (v - X0) / 1000;
    var s = String(v);
    if (/^\d{4}-\d\d-\d\d$/.test(s)) s += " 00:00:00";
    var ms = Date.parse(s.replace(" ", "T") + "Z");
    return isNaN(ms) ? NaN : (ms - X0) / 1000;
  }

  /* First index i with arr[i] >= x. */
  function lowerBound(arr, x) {
    var lo = 0, hi = arr.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // ---- transcript marking -------------------------------------------------------------------
  var marked = { focus: [], now: [] };
  function mark(cls, els) {
    marked[cls].forEach(function (el) { el.classList.remove(cls); });
    els.forEach(function (el) { el.classList.add(cls); });
    marked[cls] = els;
  }
  function wordsIn(t, end) {
    var out = [];
    if (end == null || !(end > t)) {
      var i = lowerBound(starts, t + 1e-6) - 1;           // last word starting at or before t
      if (i >= 0 && ends[i] + 0.25 >= t) out.push(words[i]);
      else if (i + 1 < words.length && starts[i + 1] - t < 0.5) out.push(words[i + 1]);
      return out;
    }
    for (var j = lowerBound(starts, t - 10); j < words.length && starts[j] <= end; j++) {
      if (ends[j] >= t) out.push(words[j]);
    }
    return out;
  }
  function scrollBoxTo(el) {
    if (!box || !el) return;
    var top = el.offsetTop, h = box.clientHeight;
    if (top < box.scrollTop + 10 || top > box.scrollTop + h - 30) box.scrollTop = Math.max(0, top - h / 3);
  }

  // ---- playhead on the timeline -------------------------------------------------------------
  /* A DOM line over the plot, placed with the x axis' own data-to-pixel mapping. Moving it is a CSS
     transform (well under 1 ms); a Plotly.relayout of a shape recomputes the figure (~0.2-0.3 s). */
  var playhead = document.getElementById("playhead");
  var playheadT = null, lastPlaced = 0;
  function placePlayhead() {
    if (!plotReady || !playhead || playheadT === null) return;
    var L = gd._fullLayout, xa = L && L.xaxis;
    if (!xa || !xa.l2p || !L._size) return;
    var px = xa._offset + xa.l2p(xOf(playheadT));
    var inside = px >= xa._offset - 0.5 && px <= xa._offset + xa._length + 0.5;
    playhead.hidden = !inside;
    playhead.dataset.t = playheadT.toFixed(3);
    playhead.style.transform = "translateX(" + px.toFixed(1) + "px)";
    playhead.style.top = L._size.t + "px";
    playhead.style.height = L._size.h + "px";
    lastPlaced = Date.now();
  }
  /* Called on every timeupdate (~4 Hz) and animation frame while playing; cheap, but skip
     redundant work when frames come faster than the line can visibly move. */
  function movePlayhead(t, force) {
    playheadT = t;
    if (force || Date.now() - lastPlaced >= 40) placePlayhead();
  }
  function followPlayback() {
    if (!audio || audio.paused) return;
    movePlayhead(audio.currentTime, false);
    window.requestAnimationFrame(followPlayback);
  }

  function xRange() {
    var ax = gd && gd.layout && gd.layout.xaxis;
    if (ax && ax.range && ax.range.length === 2) {
      var a = toSec(ax.range[0]), b = toSec(ax.range[1]);
      if (!isNaN(a) && !isNaN(b)) return [a, b];
    }
    return [0, duration];
  }
  /* Pan (keeping the zoom) so that t is visible. */
  function ensureVisible(t) {
    if (!plotReady) return;
    var r = xRange(), w = r[1] - r[0];
    if (t >= r[0] && t <= r[1]) return;
    var a = Math.min(Math.max(0, t - w / 2), Math.max(0, duration - w));
    window.Plotly.relayout(gd, { "xaxis.range": [xOf(a), xOf(a + w)] });
  }

  // ---- seeking ------------------------------------------------------------------------------
  function select(t, end, el) {
    mark("focus", wordsIn(t, end));
    scrollBoxTo(marked.focus[0]);
    document.querySelectorAll(".seek-list button.active").forEach(function (b) { b.classList.remove("active"); });
    if (el && el.closest(".seek-list")) el.classList.add("active");
  }
  function seek(t, end, el) {
    if (!isFinite(t)) return;
    t = Math.max(0, Math.min(t, duration || t));
    select(t, end, el);
    if (audio) {
      try { audio.currentTime = t; } catch (e) { /* not seekable yet: play() starts at 0 */ }
      var p = audio.play();
      if (p && p.catch) p.catch(function () { /* autoplay refused or no audio: selection still shows */ });
    }
    if (nowEl) nowEl.textContent = clock(t);
    ensureVisible(t);
    movePlayhead(t, true);
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-t]") : null;
    if (!el) return;
    var end = el.dataset.end != null ? parseFloat(el.dataset.end) : null;
    seek(parseFloat(el.dataset.t), end, el);
  });

  if (audio) {
    var lastNow = null;
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      if (nowEl) nowEl.textContent = clock(t);
      var cur = wordsIn(t, null);
      if (cur[0] !== lastNow) { lastNow = cur[0]; mark("now", cur); if (!audio.paused) scrollBoxTo(cur[0]); }
      warnItems.forEach(function (b) {
        var a = parseFloat(b.dataset.t), e = parseFloat(b.dataset.end || b.dataset.t);
        b.classList.toggle("current", t >= a && t <= e);
      });
      movePlayhead(t, false);
    });
    audio.addEventListener("play", function () { window.requestAnimationFrame(followPlayback); });
    audio.addEventListener("seeked", function () { movePlayhead(audio.currentTime, true); });
    audio.addEventListener("error", function () {
      var msg = document.getElementById("audio-error");
      if (msg) msg.hidden = false;
    });
  }

  // ---- traces from the unpacked series: min/max-decimated, re-decimated on zoom -----------------
  var timeCache = {};
  function times(sp) {
    if (timeCache[sp]) return timeCache[sp];
    var tb = data.time[sp], arr;
    if (tb.key) arr = series[tb.key];
    else { arr = new Float64Array(tb.n); for (var i = 0; i < tb.n; i++) arr[i] = tb.t0 + i * tb.dt; }
    return (timeCache[sp] = arr);
  }
  /* Per bin keep min and max (peaks are never averaged away), an all-null bin -> one gap point. */
  function decimate(t, y, i0, i1, maxPoints) {
    var xs = [], ys = [], n = i1 - i0;
    if (n <= maxPoints) {
      for (var i = i0; i < i1; i++) { xs.push(xOf(t[i])); ys.push(y[i] === y[i] ? y[i] : null); }
      return [xs, ys];
    }
    var nb = Math.max(1, maxPoints >> 1);
    for (var b = 0; b < nb; b++) {
      var a = i0 + Math.floor(b * n / nb), e = i0 + Math.floor((b + 1) * n / nb);
      if (e <= a) continue;
      var iMin = -1, iMax = -1;
      for (var k = a; k < e; k++) {
        var v = y[k];
        if (v !== v) continue;
        if (iMin < 0 || v < y[iMin]) iMin = k;
        if (iMax < 0 || v > y[iMax]) iMax = k;
      }
      if (iMin < 0) { xs.push(xOf(t[(a + e - 1) >> 1])); ys.push(null); continue; }
      var lo = Math.min(iMin, iMax), hi = Math.max(iMin, iMax);
      xs.push(xOf(t[lo])); ys.push(y[lo]);
      if (hi !== lo) { xs.push(xOf(t[hi])); ys.push(y[hi]); }
    }
    return [xs, ys];
  }
  /* x and y of every mapped trace for the time window r (seconds). */
  function tracePoints(r) {
    var xs = [], ys = [], idx = [], maxPoints = data.max_points;
    data.traces.forEach(function (tr) {
      if (tr.key === "clock") {
        /* Invisible markers are SVG nodes too: a quarter of the points (one per 0.1 s when zoomed in). */
        var n = Math.max(2, Math.min(maxPoints >> 2, Math.ceil((r[1] - r[0]) * 10))), cx = [], cy = [];
        for (var i = 0; i < n; i++) { cx.push(xOf(r[0] + (r[1] - r[0]) * i / (n - 1))); cy.push(tr.y); }
        xs.push(cx); ys.push(cy);
      } else {
        var t = times(tr.sp), y = series[tr.key];
        var i0 = Math.max(0, lowerBound(t, r[0]) - 1), i1 = Math.min(t.length, lowerBound(t, r[1]) + 1);
        var d = decimate(t, y, i0, i1, maxPoints);
        xs.push(d[0]); ys.push(d[1]);
      }
      idx.push(tr.i);
    });
    return { x: xs, y: ys, idx: idx };
  }
  var refining = false;
  function refine() {
    var long = Object.keys(data.time).some(function (sp) { return times(sp).length > data.max_points; });
    if (!long || refining) return;
    var p = tracePoints(xRange());
    refining = true;
    window.Plotly.restyle(gd, { x: p.x, y: p.y }, p.idx).then(function () { refining = false; },
                                                             function () { refining = false; });
  }

  function done() {
    document.body.dataset.ready = "1";
    if (window.performance && performance.mark) performance.mark("vc-ready");  // load time, for docs/report.md
  }
  function note(id, text) {
    var p = document.createElement("p");
    p.className = "error";
    p.id = id;
    p.textContent = text;
    if (gd) gd.parentNode.insertBefore(p, gd);
  }
  /* The words are split after the plot's first draw: splitting first makes plotly's first layout
     measure a freshly changed page, which took longer than the split itself. */
  function finish() {
    try { setupWords(series); } catch (err) {
      note("words-error", "Word times could not be read: " + (err && err.message || err) + ".");
    }
    done();
  }
  function draw() {
    if (gd && data.figure && !window.Plotly && libraryError) {
      /* The embedded library could not be inflated or run: the same line as for the data. */
      note("unpack-error", "Timeline could not be unpacked: " + (libraryError.message || libraryError) + ".");
    } else if (gd && data.figure && !window.Plotly) {
      /* The shared plot library of a batch folder did not load: say so in place of the plot. In
         both cases the rest of the page keeps working. */
      note("plot-missing", "Plot library missing: " + (data.plot_library ? decodeURI(data.plot_library) : "plotly.js") +
        " (keep this report in its folder next to the shared library, or re-render it self-contained).");
    }
    if (!gd || !data.figure || !window.Plotly) { finish(); return; }
    var fig = data.figure, p = tracePoints([0, duration]), ws = data.warning_shapes;
    p.idx.forEach(function (i, j) { fig.data[i].x = p.x[j]; fig.data[i].y = p.y[j]; });
    if (ws) {
      fig.layout.shapes = (fig.layout.shapes || []).concat(ws.spans.map(function (s) {
        var shape = JSON.parse(JSON.stringify(ws.style));
        shape.x0 = xOf(s[0]); shape.x1 = xOf(s[1]); shape.fillcolor = ws.colours[s[2]];
        return shape;
      }));
    }
    var config = { displaylogo: false, responsive: true, scrollZoom: false,
                   modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
    window.Plotly.newPlot(gd, fig.data, fig.layout, config).then(function () {
      plotReady = true;
      gd.on("plotly_click", function (ev) {
        if (!ev || !ev.points || !ev.points.length) return;
        seek(toSec(ev.points[0].x), null, null);
      });
      gd.on("plotly_relayout", function (ev) {
        var zoomed = Object.keys(ev || {}).some(function (k) { return /^xaxis\d*\.(range|autorange)/.test(k); });
        if (zoomed) refine();
        placePlayhead();
      });
      gd.on("plotly_afterplot", placePlayhead);  // resizes and restyles move the axes
      finish();
    }, finish);
  }
  /* The order: loader.js, the page's first script, has started the plot library (vcLoader.library);
     the data is inflated meanwhile, and the plot is drawn once both are there (the words are split
     after it, in finish()). */
  var library = window.vcLoader.library.then(null, function (err) {
    return err || new Error("the plot library did not load");  /* the words can still be set up */
  });
  Promise.all([unpack(data.packed), library]).then(function (got) {
    series = got[0];
    libraryError = got[1] || null;
    draw();
  }).catch(function (err) {
    /* Without the numbers (in an old browser: no DecompressionStream, so no library either) the plot
       and word times are missing; the lists and the scorecard still seek. */
    note("unpack-error", "Timeline and word times could not be unpacked: " + (err && err.message || err) + ".");
    done();
  });
})();
