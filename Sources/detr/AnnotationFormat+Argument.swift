import ArgumentParser
import Datasets

/// `--annotation-format coco|yolo|voc`.
extension AnnotationFormat: ExpressibleByArgument {}
