import ArgumentParser
import Torch

struct Detr: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detr", abstract: "swift-detr")
}
Detr.main()
