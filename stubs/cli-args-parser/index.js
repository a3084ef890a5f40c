// s3db.js depends on cli-args-parser for its command-line tool only, and the npm registry
// reachable here does not have it. The library paths s3db-realtime uses never import it, so
// this stand-in fails loudly if anything ever does.
throw new Error('cli-args-parser is not available: s3db-realtime ships a stand-in because only the s3db CLI uses it')
