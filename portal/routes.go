package portal

// routes wires every area of the portal; one bind call per area.
func (s *Server) routes() {
	s.bindStatic()
	s.bindHealth()
	s.bindHome()
	s.bindOpenAPI()
	s.bindSignIn()
	s.bindAccount()
	s.bindUserPages()
	s.bindUsersAPI()
	s.bindPuestos()
	s.bindAudit()
	s.bindMails()
	s.bindNomenclature()
	s.bindConnectors()
	s.bindConnectorPages()
	s.bindAccess()
	s.bindCatalogs()
	s.bindProcedures()
	s.bindCatalogAPI()
	s.bindCKAN()
	s.bindCatalogForms()
	s.bindLoads()
}
