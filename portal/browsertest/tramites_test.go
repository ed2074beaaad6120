package browsertest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
	"github.com/dgtit-gto/gobdatos/portal"
	"github.com/dgtit-gto/gobdatos/portal/account"
	"github.com/dgtit-gto/gobdatos/portal/browsertest"
)

// withProcedures runs the trámites on the portal's database.
func withProcedures(t *testing.T) func(*portal.Options) {
	return func(o *portal.Options) { o.Procedures = proceduretest.Engine(t, o.Pool) }
}

// The flow in the browser: an entity files an adoption request, the
// steward asks for more information, the entity completes it, the steward
// attends it, and the requester receives the reply.
func TestAdoptionRequestInTheBrowser(t *testing.T) {
	t.Parallel()
	var engine *procedure.Engine
	env := browsertest.New(t, func(o *portal.Options) { withProcedures(t)(o); engine = o.Procedures })
	dep := env.Dependencia(t, "SFIA", "Secretaría de Finanzas, Inversión y Administración")
	proceduretest.PublishedCatalog(t, env.Pool, *dep)
	env.User(t, "enlace", account.Publicador, dep)
	env.User(t, "coordinadora", account.Admin, nil)

	entity := env.Browser(t)
	require.Equal(t, 200, entity.SignIn("enlace", browsertest.Password("enlace")))
	require.Equal(t, 200, entity.Open("/procedimientos/ADC-1.3"))
	require.Contains(t, entity.Text("#actividades"), "Proporcionar los accesos a la base de datos")
	require.Equal(t, 200, entity.Click("#iniciar"))
	entity.Fill("#f_nombre_solicitante", "Ana Enlace")
	entity.Fill("#f_correo", "enlace@guanajuato.gob.mx")
	entity.Fill("#f_catalogo", "Municipios")
	entity.Fill("#f_descripcion", "Catálogo de municipios del estado para el padrón.")
	entity.Select("#f_origen", "Servicio web")
	require.Equal(t, 422, entity.Click("#enviar"))
	require.Contains(t, entity.Text("#error-f_catalogo"), "nomenclatura DAID")
	entity.Fill("#f_catalogo", "cat_municipio")
	require.Equal(t, 200, entity.Click("#enviar"))
	require.Equal(t, "Solicitud recibida", entity.Text("#estado"))
	folio := entity.Text("#folio")
	require.Regexp(t, `^ADC-1\.3-\d{4}-\d{5}$`, folio)

	steward := env.Browser(t)
	require.Equal(t, 200, steward.SignIn("coordinadora", browsertest.Password("coordinadora")))
	require.Equal(t, 200, steward.Open("/tramites"))
	require.Contains(t, steward.Text("#tramites"), folio)
	require.Equal(t, 200, steward.Open("/tramites/"+folio))
	// Mermaid draws the flow (the vendored script, under the CSP).
	steward.Wait("#diagrama svg")
	require.True(t, steward.Has("#diagrama svg .current"), "the current state is highlighted")
	steward.Fill("#obs-solicitar_informacion", "Falta el informe de mecanismos de actualización (F-4).")
	require.Equal(t, 200, steward.Click("#hacer-solicitar_informacion"))
	require.Equal(t, "Información complementaria solicitada", steward.Text("#estado"))

	mail := env.Mail(t, "enlace@guanajuato.gob.mx")
	require.Contains(t, mail, "Falta el informe de mecanismos de actualización (F-4).")
	require.Contains(t, mail, "/tramites/"+folio)

	require.Equal(t, 200, entity.Open("/tramites/"+folio))
	entity.Select("#entregar_informe-mecanismo", "Servicio web")
	entity.Select("#entregar_informe-periodicidad", "Mensual")
	entity.Fill("#entregar_informe-responsable", "Ana Enlace")
	entity.Fill("#entregar_informe-correo_responsable", "enlace@guanajuato.gob.mx")
	require.Equal(t, 200, entity.Click("#hacer-entregar_informe"))
	require.Equal(t, "Solicitud recibida", entity.Text("#estado"))

	require.Equal(t, 200, steward.Open("/tramites/"+folio))
	require.Equal(t, 200, steward.Click("#hacer-informacion_completa"))
	steward.Select("#proporcionar_accesos-tipo_acceso", "Rol en Datosigto")
	role := proceduretest.RoleName(t)
	steward.Fill("#proporcionar_accesos-usuario_bd", role)
	steward.Fill("#proporcionar_accesos-fecha_entrega", "2026-11-26")
	require.Equal(t, 200, steward.Click("#hacer-proporcionar_accesos"))
	require.Contains(t, steward.Text("#vinculo-acceso"), role)
	require.False(t, steward.Has("#consultar-contrasena"), "only the entity reads the password")
	proceduretest.CheckConnectivity(t, engine, env.Pool, folio) // the scheduler's check of the new role

	// The entity reads its role's password on the case, once; no mail carries it.
	require.Equal(t, 200, entity.Open("/tramites/"+folio))
	require.Equal(t, 200, entity.Click("#consultar-contrasena"))
	password := entity.Text("#contrasena-valor")
	require.Len(t, password, 32)
	require.NotContains(t, env.Mail(t, "enlace@guanajuato.gob.mx"), password)
	require.Equal(t, 200, steward.Open("/tramites/"+folio))
	for _, a := range []string{"conectividad_establecida", "nomenclatura_validada", "instructivo_generado"} {
		require.Equal(t, 200, steward.Click("#hacer-"+a), a)
	}
	require.Equal(t, "Alta en Datosigto (entidad)", steward.Text("#estado"))
	require.False(t, steward.Has("#hacer-tabla_publicada"), "activity 7 is the entity's")

	require.Equal(t, 200, entity.Open("/tramites/"+folio))
	require.Equal(t, 200, entity.Click("#hacer-tabla_publicada"))

	require.Equal(t, 200, steward.Open("/tramites/"+folio))
	require.Equal(t, 200, steward.Click("#hacer-catalogo_registrado"))
	steward.Fill("#obs-informar_atendida", "El catálogo cat_municipio ya está publicado en el portal.")
	require.Equal(t, 200, steward.Click("#hacer-informar_atendida"))
	require.Equal(t, "Solicitud atendida", steward.Text("#estado"))
	require.Equal(t, "/catalogos/municipios", steward.Attr("#vinculo-catalogo", "href"))
	require.Equal(t, "instructivo-municipios.pdf", steward.Text("#vinculo-instructivo"))
	require.Contains(t, steward.Text("#historial"), "Solicitar información complementaria")

	reply := env.Mail(t, "enlace@guanajuato.gob.mx")
	require.Contains(t, reply, "ha sido atendida")
	require.Contains(t, reply, "El catálogo cat_municipio ya está publicado en el portal.")
	require.Contains(t, reply, folio)
	require.Contains(t, reply, "/catalogos/municipios", "the reply links the catalog")
}

// GUP-1.6 in the browser: a requester asks to deactivate a user, the
// administrator attends the request from the case page, and that user can
// no longer sign in.
func TestUserRequestDeactivatesInTheBrowser(t *testing.T) {
	t.Parallel()
	env := browsertest.New(t, withProcedures(t))
	dep := env.Dependencia(t, "SFIA", "Secretaría de Finanzas, Inversión y Administración")
	env.User(t, "enlace", account.Publicador, dep)
	env.User(t, "coordinadora", account.Admin, nil)
	env.User(t, "beto", account.Consulta, dep)

	beto := env.Browser(t)
	require.Equal(t, 200, beto.SignIn("beto", browsertest.Password("beto")))

	entity := env.Browser(t)
	require.Equal(t, 200, entity.SignIn("enlace", browsertest.Password("enlace")))
	require.Equal(t, 200, entity.Open("/tramites/nuevo/GUP-1.6"))
	entity.Select("#f_tipo_gestion", "Deshabilitar acceso")
	entity.Fill("#f_login", "beto")
	entity.Fill("#f_justificacion", "Beto dejó la dependencia.")
	require.Equal(t, 200, entity.Click("#enviar"))
	require.Equal(t, "Solicitud recibida", entity.Text("#estado"))
	folio := entity.Text("#folio")

	admin := env.Browser(t)
	require.Equal(t, 200, admin.SignIn("coordinadora", browsertest.Password("coordinadora")))
	require.Equal(t, 200, admin.Open("/tramites/"+folio))
	require.Equal(t, 200, admin.Click("#hacer-informacion_completa"))
	require.Equal(t, "Gestión de usuarios en el portal", admin.Text("#estado"))
	require.Contains(t, admin.Text("#cambio-1"), "Deshabilitar acceso")
	require.Equal(t, "beto", admin.Attr("#c1_login", "value"))
	require.True(t, admin.Has("#c1_aplicar:checked"))
	require.False(t, admin.Has("#c1_active:checked"), "«Activo» comes unchecked, as the request asks")
	require.Equal(t, 200, admin.Click("#hacer-usuarios_gestionados"))
	require.Equal(t, "Por informar al solicitante", admin.Text("#estado"))
	require.Contains(t, admin.Text("#datos"), "1. Deshabilitar acceso «beto»: acceso deshabilitado.")
	require.Equal(t, 200, admin.Click("#hacer-informar_atendida"))
	require.Equal(t, "Solicitud atendida", admin.Text("#estado"))

	reply := env.Mail(t, "enlace@guanajuato.gob.mx")
	require.Contains(t, reply, "ha sido atendida")
	require.Contains(t, reply, "1. Deshabilitar acceso «beto»: acceso deshabilitado.", "the reply says what was applied (pre-filled)")

	beto.Open("/cuenta")
	require.True(t, strings.HasPrefix(beto.Path(), "/entrar"), "his session ended: %s", beto.Path())
	require.Equal(t, 401, beto.SignIn("beto", browsertest.Password("beto")))
}
