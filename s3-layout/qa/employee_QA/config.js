// Warren Employee portal, qa partition: where this page finds its partition's gateway.
// One origin per partition (nginx): /inbox and /ws go to the notification service, everything
// else to main-backend, so notificationUrl equals apiUrl. See s3-layout/README.md.
export default Object.freeze({
  partition: 'qa',
  portal: 'employee',
  title: 'Warren Employee — qa',
  apiUrl: 'https://api.qa.warren.example.com',
  notificationUrl: 'https://api.qa.warren.example.com',
  wsUrl: 'wss://api.qa.warren.example.com/ws',
  // The role(s) this portal is meant for; others may sign in and are told so.
  roles: ['employee'],
  // Send: also needs notifications:send (admins and managers hold it). Users (the users table):
  // also needs users:write (admins only). Audit (Sign-in activity): also needs audit:read (admins only).
  features: { send: false, users: false, audit: false },
});
