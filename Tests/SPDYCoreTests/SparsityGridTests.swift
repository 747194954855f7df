import Foundation
import Testing
@testable import SPDYCore

@Suite struct SparsityGridTests {
    @Test func standardGridHas42LevelsMatchingThePaper() {
        let grid = SparsityGrid.standard
        #expect(grid.count == 42)
        #expect(grid[.dense] == 0)
        let expected = [0.0, 0.4000, 0.4584, 0.5111, 0.5586, 0.6016]
        for (index, value) in expected.enumerated() {
            #expect(abs(grid[SparsityLevel(index)] - value) < 0.5e-4)
        }
        #expect(format4(grid[SparsityLevel(38)]) == "0.9864")
        #expect(grid[grid.sparsest] == 0.99)
        // Equal relative steps: each step keeps the same fraction of the remaining weights.
        let delta = pow(0.01 / 0.6, 1.0 / 40)
        for i in 2..<grid.count {
            let ratio = (1 - grid[SparsityLevel(i)]) / (1 - grid[SparsityLevel(i - 1)])
            #expect(abs(ratio - delta) < 1e-12)
        }
    }

    @Test func customGridAndMatching() throws {
        let grid = try SparsityGrid(minimum: 0.5, maximum: 0.9, steps: 4)
        #expect(grid.count == 6)
        #expect(grid.level(matching: 0.9) == SparsityLevel(5))
        #expect(grid.level(matching: 0.0) == .dense)
        #expect(grid.level(matching: 0.7) == nil)
        #expect(throws: SparsityGrid.ParameterError.self) { try SparsityGrid(minimum: 0.9, maximum: 0.5, steps: 3) }
        #expect(throws: SparsityGrid.ParameterError.self) { try SparsityGrid(minimum: 0, maximum: 0.5, steps: 3) }
        #expect(throws: SparsityGrid.ParameterError.self) { try SparsityGrid(minimum: 0.1, maximum: 0.9, steps: 300) }
    }

    @Test func gridRoundTripsThroughJSON() throws {
        let grid = try SparsityGrid(minimum: 0.4, maximum: 0.935, steps: 40)
        let decoded = try JSONDecoder().decode(SparsityGrid.self, from: JSONEncoder().encode(grid))
        #expect(decoded == grid)
        let bad = Data(#"{"minimum": 0.8, "maximum": 0.2, "steps": 3}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(SparsityGrid.self, from: bad) }
    }
}
