// Package servicetest holds the tests of the domain services (organisations,
// clients, authorisation servers) that run on internal/fakestore: the rules of the organisation
// tree and of clients, and how each error of the store becomes the API's
// answer (problem kind, status and detail), with failures injected where
// the real store would only fail under a race or an outage.
//
// They live apart from the domain packages because those packages' TestMain
// starts DynamoDB Local and the KMS emulator for every run of their tests;
// these need neither, and run in parallel in milliseconds. The store itself
// and the API end to end keep their tests against DynamoDB Local.
package servicetest
