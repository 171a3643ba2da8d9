// Lesson 01's Node.js original: the talk's "HTTP Server" slide, run as it was written.
// Changes from the slide, all about starting it, none about how it serves:
//   - the port comes from --port (the slide's 9999 is the default), the address from --host,
//     and the 1000 ms delay from --delay-ms, read with minimist (optimist's maintained core);
//   - once listening it prints the workshop's ready line `listening on HOST:PORT` on stdout,
//     so our tests and benchmarks know it is up (the slide listens silently).
var argv = require("minimist")(process.argv.slice(2), { string: ["host"] });
var host = argv.host || "127.0.0.1";
var port = argv.port === undefined ? 9999 : Number(argv.port);
var delayMs = argv["delay-ms"] === undefined ? 1000 : Number(argv["delay-ms"]);

require("http").createServer(function(req,res){
    res.writeHead(200,{'content-type':'text/plain'});
    res.write("Hello\n");
    setTimeout(function(){ res.end("World\n");},delayMs);
}).listen(port, host, function () {
    console.log("listening on " + host + ":" + this.address().port);
});
