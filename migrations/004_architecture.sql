-- Version 4: the project records the network it trains (src-main/bdl/architectures.ts).
-- Existing projects keep the Gal CNN they trained with, except at 224 px, where it never fit in memory.
ALTER TABLE project ADD COLUMN architecture TEXT NOT NULL DEFAULT 'gal-cnn' CHECK (architecture IN ('gal-cnn', 'resnet'));
UPDATE project SET architecture = 'resnet' WHERE image_size = 224;
