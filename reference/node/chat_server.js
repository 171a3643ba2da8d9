// Lesson 03's Node.js original: the talk's "Single Node Chat Server" slide.
// Changes from the slide, only what stops it from running or from being started by our tools:
//   - removed the stray `</pre>` after the `for (...) {` line (a slide-export artefact);
//   - added the closing braces of the for loop and of socket.on('data') that the slide lacks;
//   - `// socket.on('close',...` was commented out on the slide, leaving a dangling `});`:
//     it is code again, so a client that leaves is forgotten;
//   - `index0f` (a zero) is `indexOf`;
//   - `console.log(socket)` is `console.error(socket)`: the same dump, but on stderr, because
//     stdout carries only the ready line (a stdout pipe nobody reads would block the server);
//   - the port comes from --port (default the slide's 9999), the address from --host, and it
//     prints the ready line `listening on HOST:PORT` once listening.
// Kept as the talk wrote it: it forwards 'data' chunks, not lines; it buffers without bound
// for a client that does not read; a socket error (e.g. a reset) has no handler.
var argv = require("minimist")(process.argv.slice(2), { string: ["host"] });
var host = argv.host || "127.0.0.1";
var port = argv.port === undefined ? 9999 : Number(argv.port);

var sockets = [];
require("net").createServer(function(socket){
  sockets.push(socket);
  console.error(socket);
  socket.write("welcome to node's tcp chat server\n");
  socket.on('data',function(data){
       for(var i=0;i<sockets.length;i++){
           if(sockets[i] == socket) continue;
           sockets[i].write(data);
       }
  });
  socket.on('close',function(){
         sockets.splice(sockets.indexOf(socket),1);
  });
}).listen(port, host, function () {
  console.log("listening on " + host + ":" + this.address().port);
});
