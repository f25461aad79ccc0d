export { createDatabaseTarget, databaseSkills } from "./database-target.js";
