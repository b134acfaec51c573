/// COCO-format datasets, results files and bbox evaluation equivalent to pycocotools.
public enum COCO {}
