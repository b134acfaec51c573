/// The page served at GET /: choose or drop an image, see it with its detections drawn, and
/// filter them with a threshold slider without a new request. Self-contained (inline script and
/// style, no external assets), so it works offline. It asks for every detection (threshold 0)
/// once per image and filters in the browser.
enum WebPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>detr serve</title>
        <style>
        body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
        #drop { border: 2px dashed #888; border-radius: 8px; padding: 1.2em; text-align: center; margin-bottom: 1em; }
        #drop.over { background: #eef; }
        #controls { margin: 0.6em 0; }
        canvas { max-width: 100%; border: 1px solid #ccc; }
        #status { color: #555; margin-left: 1em; }
        table { border-collapse: collapse; margin-top: 0.8em; }
        td, th { padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; }
        </style>
        </head>
        <body>
        <h1>detr serve</h1>
        <p id="model">loading model information…</p>
        <div id="drop">Drop a JPEG or PNG here, or <input type="file" id="file" accept="image/jpeg,image/png"></div>
        <div id="controls">
          threshold <input type="range" id="threshold" min="0" max="1" step="0.01" value="__THRESHOLD__">
          <output id="thresholdValue">__THRESHOLD__</output>
          <span id="status"></span>
        </div>
        <canvas id="canvas" width="0" height="0"></canvas>
        <table id="list"><thead><tr><th>class</th><th>score</th><th>box</th></tr></thead><tbody></tbody></table>
        <script>
        "use strict";
        const canvas = document.getElementById("canvas");
        const slider = document.getElementById("threshold");
        const statusLine = document.getElementById("status");
        let picture = null, detections = [];

        function colour(label) {
          const hue = (label * 137.508) % 360;
          return "hsl(" + hue + ", 85%, 45%)";
        }

        function visible() {
          const t = parseFloat(slider.value);
          return detections.filter(d => d.score >= t);
        }

        function draw() {
          document.getElementById("thresholdValue").textContent = parseFloat(slider.value).toFixed(2);
          if (!picture) return;
          canvas.width = picture.width;
          canvas.height = picture.height;
          const g = canvas.getContext("2d");
          g.drawImage(picture, 0, 0);
          const shown = visible();
          const line = Math.max(2, Math.round(Math.min(picture.width, picture.height) / 200));
          g.font = (6 * line + 6) + "px sans-serif";
          g.textBaseline = "top";
          for (const d of shown.slice().reverse()) {
            const [x0, y0, x1, y1] = d.box;
            g.strokeStyle = colour(d.label);
            g.lineWidth = line;
            g.strokeRect(x0, y0, x1 - x0, y1 - y0);
            const text = d.name + " " + d.score.toFixed(2);
            const w = g.measureText(text).width + 6, h = 6 * line + 10;
            g.fillStyle = colour(d.label);
            g.fillRect(x0, Math.max(0, y0 - h), w, h);
            g.fillStyle = "#fff";
            g.fillText(text, x0 + 3, Math.max(0, y0 - h) + 2);
          }
          const body = document.querySelector("#list tbody");
          body.innerHTML = "";
          for (const d of shown) {
            const row = body.insertRow();
            row.insertCell().textContent = d.name;
            row.insertCell().textContent = d.score.toFixed(3);
            row.insertCell().textContent = d.box.map(v => v.toFixed(1)).join(", ");
          }
          statusLine.textContent = shown.length + " of " + detections.length + " detections shown";
          document.body.dataset.shown = String(shown.length);
        }

        async function detect(file) {
          statusLine.textContent = "detecting…";
          document.body.dataset.state = "busy";
          const url = URL.createObjectURL(file);
          const image = new Image();
          const loaded = new Promise((ok, fail) => { image.onload = ok; image.onerror = fail; });
          image.src = url;
          try {
            const response = await fetch("v1/detect?threshold=0", { method: "POST", body: file });
            const json = await response.json();
            if (!response.ok) throw new Error(json.error || response.statusText);
            await loaded;
            picture = image;
            detections = json.detections;
            document.body.dataset.state = "done";
            draw();
          } catch (e) {
            document.body.dataset.state = "error";
            statusLine.textContent = "error: " + e.message;
          }
        }

        document.getElementById("file").addEventListener("change", e => {
          if (e.target.files.length) detect(e.target.files[0]);
        });
        const drop = document.getElementById("drop");
        drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
        drop.addEventListener("dragleave", () => drop.classList.remove("over"));
        drop.addEventListener("drop", e => {
          e.preventDefault();
          drop.classList.remove("over");
          if (e.dataTransfer.files.length) detect(e.dataTransfer.files[0]);
        });
        slider.addEventListener("input", draw);
        fetch("v1/model").then(r => r.json()).then(m => {
          document.getElementById("model").textContent =
            m.architecture + " (" + m.config_name + "), classes: " + m.class_names.join(", ") + ", device " + m.device;
        }).catch(() => {});
        draw();
        </script>
        </body>
        </html>
        """
}
