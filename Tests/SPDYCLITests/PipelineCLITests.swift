import Foundation
import Testing
import SPDYCore
import SPDYGraph
import SPDYONNX
import SPDYTensor

/// The SPDY pipeline on the command line: prune end to end, the database surviving a kill, and
/// mismatched inputs refused with what and where.
@Suite("spdy pipeline on the command line", .serialized)
struct PipelineCLITests {
    static var calib: String { SPDYBinary.repositoryRoot.appendingPathComponent(".cache/fixtures/mnist/calib").path }
    static var heldOut: String { SPDYBinary.repositoryRoot.appendingPathComponent(".cache/fixtures/mnist/test").path }

    /// A calibration folder with the first `count` digits.
    static func smallCalibration(_ count: Int, in directory: URL) throws -> String {
        let folder = directory.appendingPathComponent("calib-\(count)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let input = try NPY.read(contentsOf: URL(fileURLWithPath: calib + "/input.npy"))
        let labels = try NPY.read(contentsOf: URL(fileURLWithPath: calib + "/labels.npy"))
        try NPY.write(Tensor(shape: [count, 1, 28, 28], floats: Array(input.floats.prefix(count * 784))), to: folder.appendingPathComponent("input.npy"))
        try NPY.write(Tensor(shape: [count], integers: Array(labels.integers.prefix(count))), to: folder.appendingPathComponent("labels.npy"))
        return folder.path
    }

    @Test("prune: timings, database, search, baselines, pruned ONNX, measured speedup and report in one folder")
    func pruneEndToEnd() throws {
        let directory = try SPDYBinary.temporaryDirectory()
        let out = directory.appendingPathComponent("run").path
        let calib = try Self.smallCalibration(64, in: directory)
        let arguments = ["prune", CLITests.demoModel, "--calib", calib, "--eval", Self.heldOut, "--speedup", "1.5", "-o", out,
                         "--batch", "16", "--threads", "2", "--candidates", "6", "--patience", "3", "--timing-repetitions", "1",
                         "--timing-rounds", "3", "--measure-rounds", "6", "--measure-seconds", "0"]
        // Three timing sweeps and six measuring rounds: with dense convolutions on the direct
        // kernel the demo ResNet's headroom is ~2× (it was ~4×), and two rounds on this shared VM
        // once measured a 1.5× profile at 1.00×, after which no retry target was reachable.
        let result = try SPDYBinary.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        for file in ["timings.json", "database/manifest.json", "profile-spdy-1.5x.json", "pruned-spdy-1.5x.onnx",
                     "pruned-uniform-1.5x.onnx", "pruned-global-magnitude-1.5x.onnx", "report.md", "results.json", "loss-vs-speed.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let profile = try Profile.decodeJSON(try Data(contentsOf: URL(fileURLWithPath: out + "/profile-spdy-1.5x.json")))
        #expect((profile.predictedSpeedup ?? 0) >= 1.5)
        #expect(profile.measuredSpeedup != nil)
        #expect(profile.layers.first { $0.layer == "conv1.weight" }?.level == .dense)
        #expect(profile.layers.first { $0.layer == "fc.weight" }?.level == .dense)
        // The pruned file holds the database's zeros and loads as ONNX.
        let pruned = try ONNXModel.load(contentsOf: URL(fileURLWithPath: out + "/pruned-spdy-1.5x.onnx"))
        let zeros = profile.layers.filter { $0.level != .dense }.map { entry in
            pruned.initializers[entry.layer.name]!.floats.filter { $0 == 0 }.count
        }
        #expect(zeros.reduce(0, +) > 0)
        #expect(result.stdout.contains("spdy") && result.stdout.contains("uniform") && result.stdout.contains("global-magnitude"))
        // gAP on the SPDY profile: the pruned weights stay zero, the state file is written, and a
        // second run resumes from it (all epochs done) to the same file.
        let tuned = out + "/applied-spdy-1.5x-gap.onnx"
        let gapArguments = ["apply", CLITests.demoModel, "--db", out + "/database", "--profile", out + "/profile-spdy-1.5x.json",
                            "-o", tuned, "--gap", "--gap-epochs", "2", "--gap-batch", "16", "--gap-lr", "1e-4",
                            "--calib", calib, "--eval", Self.heldOut, "--threads", "2"]
        let gap = try SPDYBinary.run(gapArguments)
        #expect(gap.status == 0, "\(gap.stderr)")
        #expect(gap.stderr.contains("gAP epoch 2/2") && gap.stderr.contains("gAP layer-output loss"))
        #expect(gap.stdout.contains("held-out pruned + gAP"))
        #expect(FileManager.default.fileExists(atPath: tuned + ".gap-state.safetensors"))
        let tunedGraph = try ONNXModel.load(contentsOf: URL(fileURLWithPath: tuned))
        for entry in profile.layers where entry.level != .dense {
            let before = pruned.initializers[entry.layer.name]!.floats, after = tunedGraph.initializers[entry.layer.name]!.floats
            #expect(zip(before, after).allSatisfy { $0 != 0 || $1 == 0 }, "\(entry.layer.name): a pruned weight moved")
        }
        let gapAgain = try SPDYBinary.run(gapArguments)
        #expect(gapAgain.status == 0 && !gapAgain.stderr.contains("gAP epoch"), "\(gapAgain.stderr)")
        #expect(try ONNXModel.load(contentsOf: URL(fileURLWithPath: tuned)).initializers == tunedGraph.initializers)
        // A second run resumes every stage from the folder; with --gap it adds a fine-tuned row
        // per delivered model.
        let again = try SPDYBinary.run(arguments + ["--gap", "--gap-epochs", "1", "--gap-batch", "16"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("timings: reusing") && again.stderr.contains("already built") && again.stderr.contains("search 1.5x: reusing"))
        #expect(again.stdout.contains("spdy+gap") && again.stdout.contains("uniform+gap"))
        #expect(FileManager.default.fileExists(atPath: out + "/pruned-spdy-1.5x-gap.onnx"))
    }

    @Test("database killed mid-run and restarted equals an uninterrupted build")
    func databaseSurvivesKill() throws {
        let directory = try SPDYBinary.temporaryDirectory()
        let calib = try Self.smallCalibration(96, in: directory)
        let whole = directory.appendingPathComponent("whole").path, killed = directory.appendingPathComponent("killed").path
        let arguments = { (out: String) in ["database", CLITests.demoModel, "--calib", calib, "-o", out, "--threads", "2"] }
        #expect(try SPDYBinary.run(arguments(whole)).status == 0)
        // Start a build and kill it (SIGKILL) once some but not all layer files exist.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SPDYBinary.path)
        process.arguments = arguments(killed)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let layersFolder = killed + "/layers"
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: layersFolder))?.filter { $0.hasSuffix(".safetensors") } ?? []
            if files.count >= 3 { break }
            usleep(2000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let before = (try FileManager.default.contentsOfDirectory(atPath: layersFolder)).filter { $0.hasSuffix(".safetensors") }
        #expect(before.count >= 3 && before.count < 16, "killed after \(before.count) layers")
        let resumed = try SPDYBinary.run(arguments(killed))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("already built (resumed)"))
        let finals = try FileManager.default.contentsOfDirectory(atPath: whole + "/layers").filter { $0.hasSuffix(".safetensors") }.sorted()
        #expect(finals.count == 16)
        #expect(try FileManager.default.contentsOfDirectory(atPath: layersFolder).filter { $0.hasSuffix(".safetensors") }.sorted() == finals)
        for file in finals {
            let a = try SafeTensors.read(contentsOf: URL(fileURLWithPath: whole + "/layers/" + file))
            let b = try SafeTensors.read(contentsOf: URL(fileURLWithPath: layersFolder + "/" + file))
            #expect(a == b, "\(file)")
        }
    }

    @Test("mismatched inputs: timing table with missing layers, database of another model, calibration of the wrong shape")
    func mismatchedInputs() throws {
        let directory = try SPDYBinary.temporaryDirectory()
        let calib = try Self.smallCalibration(32, in: directory)
        let db = directory.appendingPathComponent("db").path
        #expect(try SPDYBinary.run(["database", CLITests.demoModel, "--calib", calib, "-o", db, "--threads", "2"]).status == 0)
        let timings = directory.appendingPathComponent("timings.json").path
        #expect(try SPDYBinary.run(["time", CLITests.demoModel, "--batch", "4", "--threads", "2", "-o", timings,
                                    "--repetitions", "1", "--rounds", "1"]).status == 0)
        // A timing table without one layer.
        var table = try TimingTable.load(from: Data(contentsOf: URL(fileURLWithPath: timings)), file: timings, policy: .strict)
        table.layers.removeAll { $0.layer.name == "layer2.1.conv1.weight" }
        let partial = directory.appendingPathComponent("partial.json").path
        try JSONEncoder().encode(table).write(to: URL(fileURLWithPath: partial))
        let search = { (t: String, d: String, c: String) in
            try SPDYBinary.run(["search", CLITests.demoModel, "--db", d, "--timings", t, "--speedup", "1.5", "--calib", c,
                                "-o", directory.appendingPathComponent("p.json").path, "--candidates", "2", "--patience", "1"])
        }
        let missing = try search(partial, db, calib)
        #expect(missing.status != 0 && missing.stderr.contains("layer2.1.conv1.weight") && missing.stderr.contains(partial), "\(missing.stderr)")
        // A database built for other weights.
        var other = try ONNXModel.load(contentsOf: URL(fileURLWithPath: CLITests.demoModel))
        let w = other.initializers["layer3.0.conv2.weight"]!
        other.initializers["layer3.0.conv2.weight"] = w.mapFloats { $0 * 1.5 }
        let otherModel = directory.appendingPathComponent("other.onnx")
        try ONNXModel.write(other, to: otherModel)
        let foreign = try SPDYBinary.run(["apply", otherModel.path, "--db", db, "--profile", timings, "-o", directory.appendingPathComponent("x.onnx").path])
        #expect(foreign.status != 0 && foreign.stderr.contains("layer3.0.conv2.weight") && foreign.stderr.contains("another model"), "\(foreign.stderr)")
        // Calibration arrays of the wrong shape.
        let wrong = directory.appendingPathComponent("wrong")
        try FileManager.default.createDirectory(at: wrong, withIntermediateDirectories: true)
        try NPY.write(Tensor(zeros: [8, 3, 28, 28]), to: wrong.appendingPathComponent("input.npy"))
        let shape = try SPDYBinary.run(["database", CLITests.demoModel, "--calib", wrong.path, "-o", directory.appendingPathComponent("db2").path])
        #expect(shape.status != 0 && shape.stderr.contains("input.npy") && shape.stderr.contains("axis 1 must be 1"), "\(shape.stderr)")
        // An infeasible target says how far the model can go.
        let infeasible = try SPDYBinary.run(["search", CLITests.demoModel, "--db", db, "--timings", timings, "--speedup", "1000",
                                             "--calib", calib, "-o", directory.appendingPathComponent("p.json").path])
        #expect(infeasible.status != 0 && infeasible.stderr.contains("largest achievable speedup"), "\(infeasible.stderr)")
    }

    @Test("time --engine onnxruntime: every layer at every level as one-node models, usable by search")
    func externalTiming() throws {
        let table = try timeDemo(on: "onnxruntime")
        #expect(table?.layers.first?.layer.name == "conv1.weight")
        let out = try SPDYBinary.temporaryDirectory().appendingPathComponent("ort.json").path
        let folder = try SPDYBinary.run(["time", SPDYBinary.repositoryRoot.path, "--engine", "onnxruntime", "-o", out])
        #expect(folder.status != 0)
    }

    @Test("time --engine deepsparse: DeepSparse 1.8 in its own venv (scripts/test.sh installs it)")
    func deepSparseTiming() throws {
        let venv = SPDYBinary.repositoryRoot.appendingPathComponent(".venv-deepsparse/bin/python").path
        try #require(FileManager.default.fileExists(atPath: venv), "scripts/bootstrap_deepsparse.sh did not install \(venv)")
        _ = try timeDemo(on: "deepsparse")
    }

    /// Times the demo on an external engine at batch 4, 2 threads, one quick round, and checks
    /// the table: the engine, batch and threads recorded, every layer at every level, all positive.
    private func timeDemo(on engine: String) throws -> TimingTable? {
        let out = try SPDYBinary.temporaryDirectory().appendingPathComponent("\(engine).json").path
        let result = try SPDYBinary.run(["time", CLITests.demoModel, "--batch", "4", "--threads", "2", "--engine", engine,
                                         "--repetitions", "1", "--rounds", "1", "--warmup", "1", "-o", out])
        #expect(result.status == 0, "\(result.stderr)")
        guard result.status == 0 else { return nil }
        let table = try TimingTable.load(from: Data(contentsOf: URL(fileURLWithPath: out)), file: out, policy: .strict)
        #expect(table.engine.hasPrefix(engine) && table.batch == 4 && table.threads == 2)
        #expect(table.layers.count == 16 && table.layers.allSatisfy { $0.levels.count == 42 && $0.levels.allSatisfy { ($0?.seconds ?? 0) > 0 } })
        return table
    }
}
