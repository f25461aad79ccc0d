import type { Table } from "../discovery/database-schema.js";

/** Parents before children along foreign keys among `tables` (cycles keep their given order). */
export function dependencyOrder(tables: Table[]): Table[] {
  const byName = new Map(tables.map((table) => [table.qualifiedName, table]));
  const ordered: Table[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (table: Table) => {
    if (state.get(table.qualifiedName)) return;
    state.set(table.qualifiedName, "visiting");
    for (const foreignKey of table.foreignKeys) {
      const parent = byName.get(foreignKey.referencedTable);
      if (parent && parent !== table) visit(parent);
    }
    state.set(table.qualifiedName, "done");
    ordered.push(table);
  };
  tables.forEach(visit);
  return ordered;
}
