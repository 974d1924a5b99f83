// The admin user the demo creates and prints. A local demo store only: the
// password is printed on every start anyway.

"use strict"

module.exports = {
  email: "admin@example.com",
  password: "demo-password",
}
