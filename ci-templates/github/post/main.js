// Main step of the post helper (post/action.yml): nothing to do now; `stilt down` runs in
// post.js when the job ends.
console.log("stilt down will run when the job ends (input down: true)");
