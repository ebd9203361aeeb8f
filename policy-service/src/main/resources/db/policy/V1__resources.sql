-- One table for every resource kind: the body is the api codec's JSON, so a new kind needs no migration.
-- Portable SQL: the same script runs on H2 (embedded default) and PostgreSQL.
CREATE TABLE trellis_resources (
  type              VARCHAR(64)  NOT NULL,
  mesh              VARCHAR(253) NOT NULL,  -- '' for Mesh itself
  name              VARCHAR(253) NOT NULL,
  version           BIGINT       NOT NULL,
  labels            TEXT         NOT NULL,
  spec              TEXT         NOT NULL,
  creation_time     BIGINT       NOT NULL,  -- epoch milliseconds
  modification_time BIGINT       NOT NULL,
  PRIMARY KEY (type, mesh, name)
);
CREATE INDEX trellis_resources_mesh ON trellis_resources (mesh, type);
