/* voice-coach report: the first script of the page. Inflates what the page carries deflated and
   starts the plot library early, while the browser still parses the rest of the page.
   window.vcLoader.inflate(b64): base64 of a zlib stream -> Promise of an ArrayBuffer (report.js
   unpacks the page's data with it; packing.py). window.vcLoader.library: a Promise that settles
   once the plot library embedded above (#vc-plotly, plotlyjs.py) has run and defined Plotly, and
   is rejected if it cannot be inflated or run. It is resolved at once without an embedded library:
   a batch report loads the shared file with <script src> before report.js, or has no timeline. */
(function () {
  "use strict";
  function inflate(b64) {
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser has no DecompressionStream (Chrome 80, Firefox 113, " +
                                      "Safari 16.4 or newer have it)"));
    }
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }
  /* Run the inflated bundle as an inline script, which the CSP allows like the page's own scripts
     (page.py says why not from a blob: URL). */
  function loadLibrary(el) {
    return inflate(el.textContent).then(function (buf) {
      var want = parseInt(el.dataset.bytes, 10);
      if (buf.byteLength !== want) throw new Error("the plot library inflates to " + buf.byteLength + " bytes, not " + want);
      var s = document.createElement("script");
      s.textContent = new TextDecoder("utf-8").decode(buf);
      document.head.appendChild(s);  /* runs it, now */
      if (!window.Plotly) throw new Error("the plot library ran but defined no Plotly");
    });
  }
  var el = document.getElementById("vc-plotly");
  var library = el ? loadLibrary(el) : Promise.resolve();
  library.catch(function () { /* report.js says why, in place of the plot */ });
  window.vcLoader = { inflate: inflate, library: library };
})();
