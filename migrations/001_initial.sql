-- Episteme project schema, version 1: project metadata, classes, images, append-only label events,
-- model versions.
CREATE TABLE project (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  name        TEXT    NOT NULL,
  image_size  INTEGER NOT NULL CHECK (image_size IN (28, 64, 128, 224)),
  channels    INTEGER NOT NULL CHECK (channels IN (1, 3)),
  created_at  TEXT    NOT NULL
);

CREATE TABLE classes (
  idx   INTEGER PRIMARY KEY,
  name  TEXT    NOT NULL UNIQUE
);

CREATE TABLE images (
  id           INTEGER PRIMARY KEY,
  sha256       TEXT    NOT NULL UNIQUE,
  path         TEXT    NOT NULL,
  kind         TEXT    NOT NULL CHECK (kind IN ('raster', 'dicom')),
  width        INTEGER NOT NULL,
  height       INTEGER NOT NULL,
  imported_at  TEXT    NOT NULL
);
CREATE INDEX images_path ON images (path);

CREATE TABLE label_events (
  id                 INTEGER PRIMARY KEY,
  image_id           INTEGER NOT NULL REFERENCES images (id),
  kind               TEXT    NOT NULL CHECK (kind IN ('class', 'skip', 'unsure', 'undo')),
  class_idx          INTEGER REFERENCES classes (idx),
  undoes_event_id    INTEGER REFERENCES label_events (id),
  annotator          TEXT    NOT NULL,
  created_at         TEXT    NOT NULL,
  ms_spent           INTEGER,
  model_version_id   INTEGER,
  acquisition        TEXT,
  acquisition_score  REAL,
  CHECK ((kind = 'class') = (class_idx IS NOT NULL)),
  CHECK ((kind = 'undo') = (undoes_event_id IS NOT NULL))
);
CREATE INDEX label_events_image ON label_events (image_id, id);

CREATE TABLE model_versions (
  id             INTEGER PRIMARY KEY,
  created_at     TEXT    NOT NULL,
  method         TEXT    NOT NULL,
  hyper          TEXT    NOT NULL,  -- JSON: epochs, seed, batch size, learning rate, ...
  backend        TEXT    NOT NULL,
  metrics        TEXT,              -- JSON: accuracy, nll, ece, brier, reliability on the held-out labels
  n_labels       INTEGER NOT NULL,
  train_seconds  REAL    NOT NULL,
  weights_file   TEXT    NOT NULL
);
