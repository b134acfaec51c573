import Foundation
import Testing
import Vision

/// The page at GET / in a real headless Chromium: upload a demo sample through the file input,
/// then check the table and the drawn boxes on screenshots against the server's JSON.
///
/// Opt-in (`DETR_BROWSER_TESTS=1`, or `make test-browser`), because the bootstrap does not install
/// Chromium: `apt-get install chromium` (or point `DETR_CHROMIUM` at a Chromium/Chrome binary).
@Suite(
    .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["DETR_BROWSER_TESTS"] != nil,
        "browser test: set DETR_BROWSER_TESTS=1 (needs chromium)"))
struct WebPageBrowserTests {
    /// The page's box colour for a class: hsl((label * 137.508) mod 360, 85%, 45%), in sRGB bytes.
    static func classColour(_ label: Int) -> (Double, Double, Double) {
        let hue = (Double(label) * 137.508).truncatingRemainder(dividingBy: 360)
        let (s, l) = (0.85, 0.45)
        let c = (1 - abs(2 * l - 1)) * s
        let x = c * (1 - abs((hue / 60).truncatingRemainder(dividingBy: 2) - 1))
        let m = l - c / 2
        let (r, g, b): (Double, Double, Double)
        switch hue {
        case ..<60: (r, g, b) = (c, x, 0)
        case ..<120: (r, g, b) = (x, c, 0)
        case ..<180: (r, g, b) = (0, c, x)
        case ..<240: (r, g, b) = (0, x, c)
        case ..<300: (r, g, b) = (x, 0, c)
        default: (r, g, b) = (c, 0, x)
        }
        return ((r + m) * 255, (g + m) * 255, (b + m) * 255)
    }

    static func pixel(_ image: Image, _ x: Int, _ y: Int) -> (Double, Double, Double) {
        let i = (y * image.width + x) * 3
        return (Double(image.pixels[i]), Double(image.pixels[i + 1]), Double(image.pixels[i + 2]))
    }

    static func distance(_ a: (Double, Double, Double), _ b: (Double, Double, Double)) -> Double {
        abs(a.0 - b.0) + abs(a.1 - b.1) + abs(a.2 - b.2)
    }

    @Test func uploadDrawsTheServersDetectionsAndTheSliderFiltersThem() async throws {
        let executable = try #require(
            HeadlessChromium.executable, "no chromium on PATH: apt-get install chromium, or set DETR_CHROMIUM")
        let key = "browser-key"
        let server = try await ServeHarness.start { $0.apiKey = key }
        let sampleURL = ServeHarness.samples[0]
        let sample = try Image(contentsOf: sampleURL)
        let credentials = "Basic " + Data("user:\(key)".utf8).base64EncodedString()
        let reply = try await server.post(
            "/v1/detect?threshold=0", try Data(contentsOf: sampleURL), headers: [("Authorization", credentials)])
        #expect(reply.status == 200)
        let all = try #require(try reply.json()["detections"] as? [[String: Any]])
        let threshold = server.server.configuration.threshold
        let shown = all.filter { ($0["score"] as! Double) >= Double(threshold) }
        #expect(!shown.isEmpty, "the demo sample should have detections above \(threshold)")

        let browser = try HeadlessChromium(executable: executable)
        // The credentials a browser sends after its Basic login prompt, on every request of the page.
        let blank = try await browser.open("about:blank")
        _ = try await browser.call("Network.enable", session: blank)
        _ = try await browser.call(
            "Network.setExtraHTTPHeaders", ["headers": ["Authorization": credentials]], session: blank)
        _ = try await browser.call("Page.enable", session: blank)
        _ = try await browser.call("Page.navigate", ["url": server.base + "/"], session: blank)
        let page = blank
        try await waitFor("the page to load", browser, page) {
            try await browser.evaluate("document.readyState", session: page) as? String == "complete"
        }
        let document = try await browser.call("DOM.getDocument", session: page)
        let root = try #require((document["root"] as? [String: Any])?["nodeId"] as? Int)
        let input = try await browser.call(
            "DOM.querySelector", ["nodeId": root, "selector": "#file"], session: page)
        let inputNode = try #require(input["nodeId"] as? Int)
        _ = try await browser.call(
            "DOM.setFileInputFiles", ["files": [sampleURL.path], "nodeId": inputNode], session: page)
        try await waitFor("the detections", browser, page) {
            let state = try await browser.evaluate("document.body.dataset.state", session: page) as? String
            if state == "error" {
                let status = try await browser.evaluate(
                    "document.getElementById('status').textContent", session: page)
                throw HeadlessChromium.Failure(description: "the page shows \(status ?? "an error")")
            }
            return state == "done"
        }

        // The table lists the detections at the slider's threshold, best first, as the JSON has them.
        let rows = try #require(
            try await browser.evaluate(
                "[...document.querySelectorAll('#list tbody tr')].map(r => [...r.cells].map(c => c.textContent))",
                session: page) as? [[String]])
        #expect(rows.count == shown.count)
        for (row, detection) in zip(rows, shown) {
            #expect(row[0] == detection["name"] as? String)
            #expect(row[1] == String(format: "%.3f", detection["score"] as! Double))
        }
        #expect(
            try await browser.evaluate("document.body.dataset.shown", session: page) as? String == "\(shown.count)")

        let rect = try #require(
            try await browser.evaluate(
                "(() => { const c = document.getElementById('canvas'), r = c.getBoundingClientRect(); "
                    + "return [r.left + c.clientLeft, r.top + c.clientTop, c.clientWidth, c.clientHeight]; })()",
                session: page) as? [Double])
        #expect(rect[2] == Double(sample.width) && rect[3] == Double(sample.height), "canvas \(rect)")
        let (left, top) = (Int(rect[0].rounded()), Int(rect[1].rounded()))
        let withBoxes = try await screenshot(browser, page)
        if let dir = ProcessInfo.processInfo.environment["DETR_BROWSER_SCREENSHOTS"] {
            try withBoxes.write(to: URL(fileURLWithPath: dir).appendingPathComponent("page-detections.png"))
        }

        // The slider at 1 hides every detection below 1 without a new request.
        _ = try await browser.evaluate(
            "(() => { const s = document.getElementById('threshold'); s.value = '1'; "
                + "s.dispatchEvent(new Event('input')); })()", session: page)
        let atOne = all.filter { ($0["score"] as! Double) >= 1 }.count
        #expect(try await browser.evaluate("document.body.dataset.shown", session: page) as? String == "\(atOne)")
        let bare = try await screenshot(browser, page)

        // Without boxes the canvas shows the image itself.
        if atOne == 0 {
            var worst = 0.0
            for y in 0..<sample.height {
                for x in 0..<sample.width {
                    worst = max(worst, Self.distance(Self.pixel(bare, left + x, top + y), Self.pixel(sample, x, y)))
                }
            }
            #expect(worst <= 6, "the canvas differs from the image by up to \(worst) (sum over RGB)")
        }

        // Each shown box is drawn in its class colour: along the middle half of its left and right
        // edges, the pixel nearest the edge matches the colour (anti-aliasing blends a fractional
        // edge with the image, so the closest of the three columns around it counts).
        for detection in shown {
            let box = (detection["box"] as! [Double])
            let colour = Self.classColour(detection["label"] as! Int)
            var matches = 0
            var total = 0
            let rowsOfEdge = Int(box[1] + (box[3] - box[1]) * 0.25)...Int(box[1] + (box[3] - box[1]) * 0.75)
            for edge in [box[0], box[2]] {
                for y in rowsOfEdge where y >= 0 && y < sample.height {
                    let centre = Int(edge.rounded())
                    let best =
                        (centre - 1...centre + 1).filter { $0 >= 0 && $0 < sample.width }.map {
                            Self.distance(Self.pixel(withBoxes, left + $0, top + y), colour)
                        }.min() ?? .infinity
                    total += 1
                    if best <= 45 { matches += 1 }
                }
            }
            #expect(
                total > 0 && Double(matches) >= 0.9 * Double(total),
                "box \(box) of \(detection["name"] ?? "?"): \(matches) of \(total) edge pixels in its colour")
        }
        _ = try? await browser.call("Browser.close")
        try await server.stop()
    }

    func screenshot(_ browser: HeadlessChromium, _ page: String) async throws -> Image {
        let shot = try await browser.call("Page.captureScreenshot", ["format": "png"], session: page)
        let encoded = try #require(shot["data"] as? String)
        let data = try #require(Data(base64Encoded: encoded))
        return try Image(data: data, name: "screenshot")
    }

    func waitFor(
        _ what: String, _ browser: HeadlessChromium, _ page: String, timeout: Duration = .seconds(120),
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HeadlessChromium.Failure(description: "timed out waiting for \(what)")
    }
}
