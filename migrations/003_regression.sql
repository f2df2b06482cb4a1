-- Version 3: regression projects, whose label is a number (e.g. a severity score).
-- The project records its task; a regression project names its target, with an optional unit and range.
ALTER TABLE project ADD COLUMN task TEXT NOT NULL DEFAULT 'classification' CHECK (task IN ('classification', 'regression'));
ALTER TABLE project ADD COLUMN target_name TEXT;
ALTER TABLE project ADD COLUMN target_unit TEXT;
ALTER TABLE project ADD COLUMN target_min REAL;
ALTER TABLE project ADD COLUMN target_max REAL;

-- label_events gains kind 'value' with a finite numeric value. SQLite cannot change a CHECK in place:
-- the table is rebuilt (views first dropped, then recreated), keeping every row and id.
DROP VIEW current_labels;
DROP VIEW live_label_events;

CREATE TABLE label_events_v3 (
  id                 INTEGER PRIMARY KEY,
  image_id           INTEGER NOT NULL REFERENCES images (id),
  kind               TEXT    NOT NULL CHECK (kind IN ('class', 'value', 'skip', 'unsure', 'undo')),
  class_idx          INTEGER REFERENCES classes (idx),
  value              REAL,
  -- Names the new table, so that dropping the old one leaves no reference to it; the rename below
  -- rewrites it to label_events.
  undoes_event_id    INTEGER REFERENCES label_events_v3 (id),
  annotator          TEXT    NOT NULL,
  created_at         TEXT    NOT NULL,
  ms_spent           INTEGER,
  model_version_id   INTEGER,
  acquisition        TEXT,
  acquisition_score  REAL,
  CHECK ((kind = 'class') = (class_idx IS NOT NULL)),
  CHECK ((kind = 'value') = (value IS NOT NULL)),
  -- NaN is stored as NULL by SQLite; this refuses ±Infinity.
  CHECK (value IS NULL OR (value > -1e308 AND value < 1e308)),
  CHECK ((kind = 'undo') = (undoes_event_id IS NOT NULL))
);
INSERT INTO label_events_v3 (id, image_id, kind, class_idx, value, undoes_event_id, annotator, created_at, ms_spent,
  model_version_id, acquisition, acquisition_score)
SELECT id, image_id, kind, class_idx, NULL, undoes_event_id, annotator, created_at, ms_spent, model_version_id,
  acquisition, acquisition_score FROM label_events;
-- DROP TABLE fires no triggers, so the append-only guards do not stop the rebuild.
DROP TABLE label_events;
ALTER TABLE label_events_v3 RENAME TO label_events;

CREATE INDEX label_events_image ON label_events (image_id, id);
CREATE INDEX label_events_undoes ON label_events (undoes_event_id);
CREATE TRIGGER label_events_append_only_update BEFORE UPDATE ON label_events
BEGIN SELECT RAISE(ABORT, 'label_events is append-only: record a new event instead'); END;
CREATE TRIGGER label_events_append_only_delete BEFORE DELETE ON label_events
BEGIN SELECT RAISE(ABORT, 'label_events is append-only: record an undo event instead'); END;

CREATE VIEW live_label_events AS
SELECT e.* FROM label_events e
WHERE e.kind <> 'undo'
  AND NOT EXISTS (SELECT 1 FROM label_events u WHERE u.undoes_event_id = e.id);

CREATE VIEW current_labels AS
SELECT * FROM (
  SELECT l.*, ROW_NUMBER() OVER (PARTITION BY l.image_id ORDER BY l.id DESC) AS recency
  FROM live_label_events l
) WHERE recency = 1;

-- Per-image predictions of a regression model version, in the target's units: the posterior mean,
-- the variance of the latent function (epistemic: what the queue ranks by) and the predictive variance
-- of a new label (epistemic + the fitted noise variance).
CREATE TABLE regression_scores (
  model_version_id     INTEGER NOT NULL REFERENCES model_versions (id),
  image_id             INTEGER NOT NULL REFERENCES images (id),
  mean                 REAL    NOT NULL,
  latent_variance      REAL    NOT NULL,
  predictive_variance  REAL    NOT NULL,
  PRIMARY KEY (model_version_id, image_id)
) WITHOUT ROWID;
