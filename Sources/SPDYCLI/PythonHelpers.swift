import Foundation
import SPDYTensor

/// Finds the project's Python (the venv scripts/bootstrap.sh makes) and the helper scripts.
enum PythonEnvironment {
    /// `$SPDY_PYTHON`, else `.venv/bin/python` in the current folder or an ancestor of it or of
    /// the executable (a build inside the repository), else `python3`.
    static var interpreter: String {
        if let p = ProcessInfo.processInfo.environment["SPDY_PYTHON"], !p.isEmpty { return p }
        for start in [FileManager.default.currentDirectoryPath, CommandLine.arguments[0]] {
            var url = URL(fileURLWithPath: start).standardizedFileURL
            for _ in 0..<8 {
                let candidate = url.appendingPathComponent(".venv/bin/python")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
                url.deleteLastPathComponent()
            }
        }
        return "/usr/bin/env python3"
    }

    /// The repository's scripts/python folder, found the same way.
    static func script(_ name: String) throws -> String {
        for start in [FileManager.default.currentDirectoryPath, CommandLine.arguments[0]] {
            var url = URL(fileURLWithPath: start).standardizedFileURL
            for _ in 0..<8 {
                let candidate = url.appendingPathComponent("scripts/python/\(name)")
                if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
                url.deleteLastPathComponent()
            }
        }
        throw CLIError("cannot find scripts/python/\(name): run spdy from the swift-spdy repository")
    }

    /// Runs the interpreter with `arguments`; returns standard output, throws with standard error.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        let parts = interpreter.split(separator: " ").map(String.init)
        process.executableURL = URL(fileURLWithPath: parts[0])
        process.arguments = Array(parts.dropFirst()) + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("\(parts[0]) \(arguments.first ?? "") failed: \(String(decoding: errors, as: UTF8.self).suffix(800))\(String(decoding: data, as: UTF8.self).suffix(400))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Times a model on another engine through its helper script (scripts/python/ort_bench.py,
/// deepsparse_bench.py: same command line, same JSON), same inputs and threads.
enum ExternalEngineBench {
    /// Engines `spdy bench --compare` knows, with their helper scripts.
    static let scripts = ["onnxruntime": "ort_bench.py", "deepsparse": "deepsparse_bench.py"]

    static func run(engine: String, model: String, feeds: [String: Tensor], threads: Int, warmup: Int,
                    repetitions: Int) throws -> [Double] {
        guard let script = scripts[engine] else { throw CLIError("no helper for engine '\(engine)'") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spdy-\(engine)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, tensor) in feeds { try NPY.write(tensor, to: directory.appendingPathComponent("\(name).npy")) }
        let output = try PythonEnvironment.run([try PythonEnvironment.script(script), "--model", model,
                                                "--inputs", directory.path, "--threads", String(threads),
                                                "--warmup", String(warmup), "--repetitions", String(repetitions)])
        struct Result: Decodable { var samples_ms: [Double]?; var error: String? }
        guard let line = output.split(separator: "\n").last,
              let result = try? JSONDecoder().decode(Result.self, from: Data(line.utf8)) else {
            throw CLIError("\(script) printed no result: \(output.suffix(400))")
        }
        if let e = result.error { throw CLIError(e) }
        return result.samples_ms ?? []
    }
}
