import type { ClientBase } from 'pg';

/**
 * Everything a migration can change in the public schema, as one comparable JSON text:
 * columns, indexes, constraints, comments, enum types, functions, hypertables and their
 * dimensions, extensions, and the migration and retention records.
 */
export async function schemaSnapshot(client: ClientBase): Promise<string> {
  const { rows } = await client.query<{ snapshot: unknown }>(`
    select json_build_object(
      'columns', (select json_agg(json_build_array(table_name, column_name, udt_name, is_nullable, column_default, is_generated, generation_expression) order by table_name, ordinal_position)
                    from information_schema.columns where table_schema = 'public'),
      'indexes', (select json_agg(json_build_array(tablename, indexname, indexdef) order by tablename, indexname) from pg_indexes where schemaname = 'public'),
      'constraints', (select json_agg(json_build_array(conrelid::regclass::text, conname, pg_get_constraintdef(oid)) order by conrelid::regclass::text, conname)
                        from pg_constraint where connamespace = 'public'::regnamespace),
      'comments', (select json_agg(json_build_array(c.relname, obj_description(c.oid, 'pg_class')) order by c.relname)
                     from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v')),
      'enums', (select json_agg(json_build_array(t.typname, (select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid)) order by t.typname)
                  from pg_type t where t.typnamespace = 'public'::regnamespace and t.typtype = 'e'),
      'functions', (select json_agg(json_build_array(p.proname, pg_get_function_identity_arguments(p.oid)) order by p.proname, pg_get_function_identity_arguments(p.oid))
                      from pg_proc p where p.pronamespace = 'public'::regnamespace),
      'hypertables', (select json_agg(json_build_array(hypertable_name, num_dimensions, compression_enabled) order by hypertable_name) from timescaledb_information.hypertables),
      'dimensions', (select json_agg(json_build_array(hypertable_name, column_name, time_interval) order by hypertable_name, column_name) from timescaledb_information.dimensions),
      'jobs', (select json_agg(json_build_array(proc_name, hypertable_name, config) order by proc_name, hypertable_name) from timescaledb_information.jobs),
      'extensions', (select json_agg(json_build_array(extname, extversion) order by extname) from pg_extension),
      'migrations', (select json_agg(json_build_array(version, name, edition, checksum, applied_at) order by version) from weir_schema_migrations),
      'retention', (select json_agg(json_build_array(hypertable, drop_after, compress_after, enforced_by) order by hypertable) from weir_retention)
    ) as snapshot`);
  return JSON.stringify(rows[0]!.snapshot);
}
