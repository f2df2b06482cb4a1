-- Version 2: per-image scores of each model version (so that switching the acquisition function only
-- reorders), and the label audit trail made append-only at the database level.
CREATE TABLE scores (
  model_version_id  INTEGER NOT NULL REFERENCES model_versions (id),
  image_id          INTEGER NOT NULL REFERENCES images (id),
  predicted         INTEGER NOT NULL,
  probs_mean        BLOB    NOT NULL,  -- float32 [C]
  probs_lower       BLOB    NOT NULL,  -- float32 [C], 5% quantile over posterior samples
  probs_upper       BLOB    NOT NULL,  -- float32 [C], 95% quantile
  epistemic         REAL    NOT NULL,  -- mutual information = BALD
  aleatoric         REAL    NOT NULL,  -- expected entropy
  entropy           REAL    NOT NULL,
  margin            REAL    NOT NULL,
  var_ratios        REAL    NOT NULL,
  mean_std          REAL    NOT NULL,
  PRIMARY KEY (model_version_id, image_id)
) WITHOUT ROWID;

CREATE TRIGGER label_events_append_only_update BEFORE UPDATE ON label_events
BEGIN SELECT RAISE(ABORT, 'label_events is append-only: record a new event instead'); END;
CREATE TRIGGER label_events_append_only_delete BEFORE DELETE ON label_events
BEGIN SELECT RAISE(ABORT, 'label_events is append-only: record an undo event instead'); END;

CREATE INDEX label_events_undoes ON label_events (undoes_event_id);

-- Label events that have not been undone (undo events themselves excluded).
CREATE VIEW live_label_events AS
SELECT e.* FROM label_events e
WHERE e.kind <> 'undo'
  AND NOT EXISTS (SELECT 1 FROM label_events u WHERE u.undoes_event_id = e.id);

-- The current label of an image is its latest live event.
CREATE VIEW current_labels AS
SELECT * FROM (
  SELECT l.*, ROW_NUMBER() OVER (PARTITION BY l.image_id ORDER BY l.id DESC) AS recency
  FROM live_label_events l
) WHERE recency = 1;
