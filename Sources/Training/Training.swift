/// Training: data pipeline, trainer, checkpoints.
public enum Training {}
