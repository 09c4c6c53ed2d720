/*
 * sync/schema.c - the original's index schema, statement by statement.
 *
 * The texts are exactly those the original leaves in sqlite_master
 * (supertag_fields with its eight ALTER TABLE columns already in place), in
 * the order it creates them, so a schema dump of our index and of the
 * original's is the same, row for row (tests/sync checks this).
 */
#include "sync/index.h"

#include <stddef.h>

const char *const st_index_schema_sql[] = {
    "CREATE TABLE nodes (\n"
    "        id TEXT PRIMARY KEY,\n"
    "        name TEXT,\n"
    "        parent_id TEXT,\n"
    "        node_type TEXT,\n"
    "        created INTEGER,\n"
    "        updated INTEGER,\n"
    "        done_at INTEGER,\n"
    "        raw_data TEXT\n"
    "      )",
    "CREATE INDEX idx_nodes_parent ON nodes(parent_id)",
    "CREATE INDEX idx_nodes_type ON nodes(node_type)",
    "CREATE INDEX idx_nodes_name ON nodes(name)",
    "CREATE INDEX idx_nodes_done_at ON nodes(done_at)",
    "CREATE TABLE supertags (\n"
    "        id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "        node_id TEXT NOT NULL,\n"
    "        tag_name TEXT NOT NULL,\n"
    "        tag_id TEXT NOT NULL,\n"
    "        color TEXT\n"
    "      )",
    "CREATE INDEX idx_supertags_node ON supertags(node_id)",
    "CREATE INDEX idx_supertags_name ON supertags(tag_name)",
    "CREATE INDEX idx_supertags_tagid ON supertags(tag_id)",
    "CREATE TABLE fields (\n"
    "        id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "        node_id TEXT NOT NULL,\n"
    "        field_name TEXT NOT NULL,\n"
    "        field_id TEXT NOT NULL\n"
    "      )",
    "CREATE INDEX idx_fields_node ON fields(node_id)",
    "CREATE INDEX idx_fields_name ON fields(field_name)",
    "CREATE INDEX idx_fields_fieldid ON fields(field_id)",
    "CREATE TABLE \"references\" (\n"
    "        id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "        from_node TEXT NOT NULL,\n"
    "        to_node TEXT NOT NULL,\n"
    "        reference_type TEXT NOT NULL\n"
    "      )",
    "CREATE INDEX idx_references_from ON \"references\"(from_node)",
    "CREATE INDEX idx_references_to ON \"references\"(to_node)",
    "CREATE INDEX idx_references_type ON \"references\"(reference_type)",
    "CREATE TABLE tag_applications (\n"
    "        id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "        tuple_node_id TEXT NOT NULL,\n"
    "        data_node_id TEXT NOT NULL,\n"
    "        tag_id TEXT NOT NULL,\n"
    "        tag_name TEXT NOT NULL\n"
    "      )",
    "CREATE INDEX idx_tag_apps_data_node ON tag_applications(data_node_id)",
    "CREATE INDEX idx_tag_apps_tag_id ON tag_applications(tag_id)",
    "CREATE INDEX idx_tag_apps_tag_name ON tag_applications(tag_name)",
    "CREATE TABLE field_names (\n"
    "        id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "        field_id TEXT NOT NULL UNIQUE,\n"
    "        field_name TEXT NOT NULL,\n"
    "        supertags TEXT\n"
    "      )",
    "CREATE INDEX idx_field_names_fieldid ON field_names(field_id)",
    "CREATE TABLE sync_metadata (\n"
    "        id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "        last_export_file TEXT NOT NULL,\n"
    "        last_sync_timestamp INTEGER NOT NULL,\n"
    "        total_nodes INTEGER NOT NULL\n"
    "      )",
    "CREATE TABLE node_checksums (\n"
    "        node_id TEXT PRIMARY KEY,\n"
    "        checksum TEXT NOT NULL,\n"
    "        last_seen INTEGER NOT NULL\n"
    "      )",
    "CREATE INDEX idx_node_checksums_last_seen ON node_checksums(last_seen)",
    "CREATE TABLE field_values (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  tuple_id TEXT NOT NULL,\n"
    "  parent_id TEXT NOT NULL,\n"
    "  field_def_id TEXT NOT NULL,\n"
    "  field_name TEXT NOT NULL,\n"
    "  value_node_id TEXT NOT NULL,\n"
    "  value_text TEXT NOT NULL,\n"
    "  value_order INTEGER DEFAULT 0,\n"
    "  created INTEGER\n"
    ")",
    "CREATE INDEX idx_field_values_parent ON field_values(parent_id)",
    "CREATE INDEX idx_field_values_field_name ON field_values(field_name)",
    "CREATE INDEX idx_field_values_field_def ON field_values(field_def_id)",
    "CREATE INDEX idx_field_values_created ON field_values(created)",
    "CREATE VIRTUAL TABLE field_values_fts USING fts5(\n"
    "  field_name,\n"
    "  value_text,\n"
    "  content='field_values',\n"
    "  content_rowid='id',\n"
    "  tokenize='porter unicode61'\n"
    ")",
    "CREATE TRIGGER field_values_ai AFTER INSERT ON field_values BEGIN\n"
    "    INSERT INTO field_values_fts(rowid, field_name, value_text)\n"
    "    VALUES (new.id, new.field_name, new.value_text);\n"
    "  END",
    "CREATE TRIGGER field_values_ad AFTER DELETE ON field_values BEGIN\n"
    "    INSERT INTO field_values_fts(field_values_fts, rowid, field_name, value_text)\n"
    "    VALUES ('delete', old.id, old.field_name, old.value_text);\n"
    "  END",
    "CREATE TRIGGER field_values_au AFTER UPDATE ON field_values BEGIN\n"
    "    INSERT INTO field_values_fts(field_values_fts, rowid, field_name, value_text)\n"
    "    VALUES ('delete', old.id, old.field_name, old.value_text);\n"
    "    INSERT INTO field_values_fts(rowid, field_name, value_text)\n"
    "    VALUES (new.id, new.field_name, new.value_text);\n"
    "  END",
    "CREATE TABLE field_exclusions (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  field_name TEXT NOT NULL UNIQUE,\n"
    "  reason TEXT\n"
    ")",
    "CREATE TABLE supertag_fields (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  tag_id TEXT NOT NULL,\n"
    "  tag_name TEXT NOT NULL,\n"
    "  field_name TEXT NOT NULL,\n"
    "  field_label_id TEXT NOT NULL,\n"
    "  field_order INTEGER DEFAULT 0, normalized_name TEXT, description TEXT, inferred_data_type TEXT, target_supertag_id TEXT, target_supertag_name TEXT, default_value_id TEXT, default_value_text TEXT, option_values TEXT,\n"
    "  UNIQUE(tag_id, field_name)\n"
    ")",
    "CREATE INDEX idx_supertag_fields_tag ON supertag_fields(tag_id)",
    "CREATE INDEX idx_supertag_fields_name ON supertag_fields(tag_name)",
    "CREATE TABLE supertag_parents (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  child_tag_id TEXT NOT NULL,\n"
    "  parent_tag_id TEXT NOT NULL,\n"
    "  UNIQUE(child_tag_id, parent_tag_id)\n"
    ")",
    "CREATE INDEX idx_supertag_parents_child ON supertag_parents(child_tag_id)",
    "CREATE INDEX idx_supertag_parents_parent ON supertag_parents(parent_tag_id)",
    "CREATE TABLE supertag_metadata (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  tag_id TEXT NOT NULL UNIQUE,\n"
    "  tag_name TEXT NOT NULL,\n"
    "  normalized_name TEXT NOT NULL,\n"
    "  description TEXT,\n"
    "  color TEXT,\n"
    "  created_at INTEGER\n"
    ")",
    "CREATE INDEX idx_supertag_metadata_name ON supertag_metadata(tag_name)",
    "CREATE INDEX idx_supertag_metadata_normalized ON supertag_metadata(normalized_name)",
    "CREATE INDEX idx_supertag_fields_normalized ON supertag_fields(normalized_name)",
    "CREATE INDEX idx_supertag_fields_data_type ON supertag_fields(inferred_data_type)",
    "CREATE TABLE system_field_sources (\n"
    "      id INTEGER PRIMARY KEY,\n"
    "      field_id TEXT NOT NULL,\n"
    "      tag_id TEXT NOT NULL,\n"
    "      UNIQUE(field_id, tag_id)\n"
    "    )",
    "CREATE INDEX idx_system_field_sources_field\n"
    "    ON system_field_sources(field_id)\n"
    "  ",
    "CREATE INDEX idx_system_field_sources_tag\n"
    "    ON system_field_sources(tag_id)\n"
    "  ",
    NULL};
